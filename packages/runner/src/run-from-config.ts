import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import type { HandlerSpec } from './handler.js';
import type { RunnerHooks } from './hooks.js';
import { importModule } from './module-loader.js';
import { attachReporter, type ReporterKind } from './reporter.js';
import { createRunner, type Runner } from './runner.js';

/** What an `ilkkun.config.(ts|js|mjs|json)` holds. */
export interface IlkkunConfig {
  /** backend URL (default: `ILKKUN_URL`, else `sqlite:./ilkkun.db`) */
  url?: string;
  /** queue name → handler module path (relative to the config file) or `{ handler, export?, settings }` */
  queues?: Record<string, HandlerSpec>;
  /** same as `queues` (either name is accepted, not both) */
  handlers?: Record<string, HandlerSpec>;
  global?: Partial<QueueSettings>;
  /** JS configs only */
  hooks?: RunnerHooks;
  graceMs?: number;
  status?: { port: number };
}

/** Identity, for type-checked JS configs: `export default defineConfig({ ... })`. */
export function defineConfig(config: IlkkunConfig): IlkkunConfig {
  return config;
}

const TOP_LEVEL_KEYS = new Set(['url', 'queues', 'handlers', 'global', 'hooks', 'graceMs', 'status']);

/** The default file names `ilkkun work` looks for, in order. */
export const CONFIG_FILE_NAMES = [
  'ilkkun.config.ts',
  'ilkkun.config.js',
  'ilkkun.config.mjs',
  'ilkkun.config.json',
] as const;

export async function loadConfig(path: string): Promise<{ config: IlkkunConfig; baseDir: string }> {
  const file = resolve(path);
  const ext = extname(file);
  let raw: unknown;
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else if (['.js', '.mjs', '.ts', '.mts'].includes(ext)) {
    let mod: { default?: unknown };
    try {
      mod = (await importModule(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      throw new ConfigError(`cannot load config ${file}: ${(err as Error).message}`, { cause: err });
    }
    raw = mod.default;
  } else {
    throw new ConfigError(`config ${file}: expected a .ts, .js, .mjs or .json file`);
  }
  return { config: validateConfig(raw, file), baseDir: dirname(file) };
}

function validateConfig(raw: unknown, file: string): IlkkunConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config ${file} must export an object (export default { ... })`);
  }
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      throw new ConfigError(`config ${file}: unknown key "${key}"; known: ${[...TOP_LEVEL_KEYS].join(', ')}`);
    }
  }
  if (c['queues'] !== undefined && c['handlers'] !== undefined) {
    throw new ConfigError(`config ${file}: give "queues" or "handlers", not both`);
  }
  if (c['url'] !== undefined && typeof c['url'] !== 'string')
    throw new ConfigError(`config ${file}: url must be a string`);
  const queues = c['queues'] ?? c['handlers'];
  if (typeof queues !== 'object' || queues === null || Array.isArray(queues)) {
    throw new ConfigError(`config ${file}: "queues" must map queue names to handler module paths`);
  }
  const status = c['status'];
  if (
    status !== undefined &&
    (typeof status !== 'object' || status === null || typeof (status as { port?: unknown }).port !== 'number')
  ) {
    throw new ConfigError(`config ${file}: status must be { port: number }`);
  }
  return raw as IlkkunConfig;
}

export interface RunFromConfigOptions {
  /** overrides the config's url */
  url?: string;
  /** overrides the config's status port */
  statusPort?: number;
  /** how backend packages are imported (the CLI passes its own `import`) */
  importer?: (specifier: string) => Promise<unknown>;
  /** default true: SIGINT/SIGTERM stop gracefully and exit */
  handleSignals?: boolean;
  /** default `auto`: live view on a TTY, log lines otherwise */
  reporter?: ReporterKind;
  stream?: NodeJS.WriteStream;
}

/**
 * Load a config file, open its backend, start a runner for its queues (with a reporter on
 * stdout) and return it. The runner owns the backend and closes it when it stops; await
 * `runner.stopped` to wait for that.
 */
export async function runFromConfig(path: string, options: RunFromConfigOptions = {}): Promise<Runner> {
  const { config, baseDir } = await loadConfig(path);
  const handlers = (config.queues ?? config.handlers)!;
  const statusPort = options.statusPort ?? config.status?.port;
  const url = options.url ?? config.url ?? process.env['ILKKUN_URL'];
  const runner = createRunner({
    backend: url ?? 'sqlite:./ilkkun.db',
    handlers,
    baseDir,
    handleSignals: options.handleSignals ?? true,
    openBackend: options.importer ? { importer: options.importer } : {},
    ...(config.global ? { global: config.global } : {}),
    ...(config.hooks ? { hooks: config.hooks } : {}),
    ...(config.graceMs !== undefined ? { graceMs: config.graceMs } : {}),
    ...(statusPort !== undefined ? { status: { port: statusPort } } : {}),
  });
  const detach = attachReporter(runner, options.reporter ?? 'auto', options.stream ?? process.stdout);
  void runner.stopped.then(detach);
  try {
    await runner.start();
  } catch (err) {
    detach();
    throw err;
  }
  return runner;
}
