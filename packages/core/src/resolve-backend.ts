import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from './backend.js';
import { BackendNotInstalledError, ConfigError } from './errors.js';
import { createMemoryBackend } from './memory/memory-backend.js';

/** Used when neither an argument nor `ILKKUN_URL` names a backend: a file next to the app, no server. */
export const DEFAULT_BACKEND_URL = 'sqlite:./ilkkun.db';

/** URL scheme → the package that implements it. */
export const BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  sqlite: '@ilkkun/sqlite',
  redis: '@ilkkun/redis',
  rediss: '@ilkkun/redis',
  mongodb: '@ilkkun/mongodb',
  'mongodb+srv': '@ilkkun/mongodb',
  mysql: '@ilkkun/mysql',
  mariadb: '@ilkkun/mysql',
  amqp: '@ilkkun/amqp',
  amqps: '@ilkkun/amqp',
  sqs: '@ilkkun/sqs',
};

/** What every backend package exports. */
export interface BackendModule {
  createBackend(url: string, options?: Record<string, unknown>): Promise<Backend>;
}

export interface OpenBackendOptions {
  /**
   * Loads a backend package. The default tries core's own resolution, then the current
   * directory's, then each directory in `ILKKUN_RESOLVE_FROM` (colon-separated). A CLI or app
   * that depends on the backends can pass `(s) => import(s)` to resolve from its own location.
   */
  importer?: (specifier: string) => Promise<unknown>;
  /** passed through to the backend's `createBackend` */
  backendOptions?: Record<string, unknown>;
}

/** The scheme of a backend URL, lower-cased, without the colon. */
export function backendScheme(url: string): string {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (!match) {
    throw new ConfigError(
      `"${redactUrl(url)}" is not a backend URL; expected e.g. sqlite:./ilkkun.db, memory:, redis://127.0.0.1:6379`,
    );
  }
  return match[1]!.toLowerCase();
}

const URL_USERINFO = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/@:\s]*:)[^@\s/]*@/g;
const URL_SECRET_PARAMS =
  /([?&](?:password|secret|secretAccessKey|sessionToken|token|apiKey|api_key)=)[^&\s]*/gi;

/**
 * A URL (or any text holding URLs, such as a driver's error message) safe to print: passwords
 * in `scheme://user:password@host` and secret query parameters become `***`.
 */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(URL_SECRET_PARAMS, '$1***');
}

/** Open the backend a URL names, loading its package on demand. Application code never changes between backends. */
export async function openBackend(url?: string, options: OpenBackendOptions = {}): Promise<Backend> {
  const resolved = url ?? process.env['ILKKUN_URL'] ?? DEFAULT_BACKEND_URL;
  const scheme = backendScheme(resolved);
  if (scheme === 'memory') return createMemoryBackend(resolved);
  const packageName = BACKEND_PACKAGES[scheme];
  if (!packageName) {
    throw new ConfigError(
      `unknown backend scheme "${scheme}:" in ${redactUrl(resolved)}; known: memory, ${Object.keys(BACKEND_PACKAGES).join(', ')}`,
    );
  }
  const mod = await loadBackendModule(scheme, packageName, options.importer);
  return mod.createBackend(resolved, options.backendOptions);
}

async function loadBackendModule(
  scheme: string,
  packageName: string,
  importer: OpenBackendOptions['importer'],
): Promise<BackendModule> {
  const attempts: Array<() => Promise<unknown>> = [];
  if (importer) attempts.push(() => importer(packageName));
  attempts.push(() => import(packageName));
  const roots = [process.cwd(), ...(process.env['ILKKUN_RESOLVE_FROM']?.split(':').filter(Boolean) ?? [])];
  for (const root of roots) {
    attempts.push(() => {
      const resolvedPath = createRequire(join(root, 'package.json')).resolve(packageName);
      return import(pathToFileURL(resolvedPath).href);
    });
  }
  let lastMissing: unknown;
  for (const attempt of attempts) {
    try {
      const mod = (await attempt()) as Partial<BackendModule>;
      if (typeof mod.createBackend !== 'function') {
        throw new ConfigError(`${packageName} does not export createBackend(url, options)`);
      }
      return mod as BackendModule;
    } catch (err) {
      if (!isMissingPackage(err, packageName)) throw err;
      lastMissing = err;
    }
  }
  throw new BackendNotInstalledError(scheme, packageName, lastMissing);
}

/** Only "this package cannot be found" means not installed; its own failures must surface as they are. */
function isMissingPackage(err: unknown, packageName: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = e?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof e.message === 'string' && e.message.includes(`'${packageName}'`);
}
