import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const TYPESCRIPT = /\.(c|m)?tsx?$/;

// jiti transpiles TypeScript on the fly (Node 20 cannot run .ts itself); loaded modules are cached
const jiti = createJiti(import.meta.url, { interopDefault: false, moduleCache: true });

/**
 * Import a config or handler module by file URL or specifier. TypeScript files
 * (`ilkkun.config.ts`, `handlers/send-mail.ts`) go through jiti, everything else through Node's
 * own `import()`, so plain JavaScript apps pay nothing for the TypeScript support.
 */
export async function importModule(urlOrSpecifier: string): Promise<Record<string, unknown>> {
  const path = urlOrSpecifier.startsWith('file:') ? fileURLToPath(urlOrSpecifier) : urlOrSpecifier;
  if (TYPESCRIPT.test(path)) return (await jiti.import(path)) as Record<string, unknown>;
  return (await import(urlOrSpecifier)) as Record<string, unknown>;
}
