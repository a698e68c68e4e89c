import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The CLI package's own directory (the one holding package.json), from `dist/` or `src/`. */
export const CLI_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The CLI's version, from its package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}
