import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LeasedJob } from '@ilkkun/core';
import { ConfigError } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import { importModule } from './module-loader.js';

/** What a handler gets besides the job. */
export interface JobContext {
  /** aborted on timeout, lost lease or shutdown; `signal.reason` says which */
  signal: AbortSignal;
  /**
   * Keep the lease at least `ms` ahead from now on (the heartbeat then renews at `ms`). Rarely
   * needed: the runner heartbeats on its own while the handler runs.
   */
  extend(ms: number): Promise<Date>;
  /** a log line tied to the job, delivered as a `job:log` event */
  log(message: string, data?: Record<string, unknown>): void;
}

/**
 * A job handler. Declared through a method so that a handler typed for its own payload,
 * `(job: LeasedJob<{ to: string }>) => …`, can be registered without a cast (method parameters
 * are checked bivariantly).
 */
export type Handler<P = unknown> = {
  bivarianceHack(job: LeasedJob<P>, ctx: JobContext): unknown;
}['bivarianceHack'];

/** A module path (loaded in the runner, or in each child in `process` mode) with an optional export name. */
export interface HandlerModuleRef {
  module: string;
  /** named export to call (default: `default`, then `handler`) */
  export?: string;
}

/** How a queue's handler is given: a function, a module path, or either with settings. */
export type HandlerSpec =
  | Handler
  | string
  | HandlerModuleRef
  | { handler: Handler | string; export?: string; settings?: Partial<QueueSettings> };

/** A handler spec with module paths made absolute file URLs. */
export type ResolvedHandler =
  | { kind: 'function'; fn: Handler }
  | { kind: 'module'; url: string; exportName?: string };

export interface NormalizedSpec {
  handler: ResolvedHandler;
  settings: unknown;
}

export function normalizeSpec(queue: string, spec: HandlerSpec, baseDir: string): NormalizedSpec {
  const where = `handlers["${queue}"]`;
  if (typeof spec === 'function') return { handler: { kind: 'function', fn: spec }, settings: undefined };
  if (typeof spec === 'string')
    return { handler: moduleRef(spec, undefined, baseDir, where), settings: undefined };
  if (typeof spec !== 'object' || spec === null) {
    throw new ConfigError(`${where} must be a function, a module path or { handler, settings }`);
  }
  // a misplaced setting ({ handler, mode: 'process' }) must not be silently ignored
  const allowed = 'module' in spec ? ['module', 'export'] : ['handler', 'export', 'settings'];
  const stray = Object.keys(spec).find((key) => !allowed.includes(key));
  if (stray !== undefined) {
    throw new ConfigError(
      `${where} has an unknown key "${stray}"; allowed: ${allowed.join(', ')} (per-queue settings go under "settings")`,
    );
  }
  if ('module' in spec) {
    return { handler: moduleRef(spec.module, spec.export, baseDir, where), settings: undefined };
  }
  if ('handler' in spec) {
    const h = spec.handler;
    const handler: ResolvedHandler =
      typeof h === 'function' ? { kind: 'function', fn: h } : moduleRef(h, spec.export, baseDir, where);
    return { handler, settings: spec.settings };
  }
  throw new ConfigError(`${where} must be a function, a module path or { handler, settings }`);
}

function moduleRef(path: unknown, exportName: unknown, baseDir: string, where: string): ResolvedHandler {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigError(`${where}: module path must be a string`);
  if (exportName !== undefined && typeof exportName !== 'string') {
    throw new ConfigError(`${where}: export must be a string`);
  }
  const out: ResolvedHandler = { kind: 'module', url: resolveModuleUrl(path, baseDir) };
  if (exportName !== undefined) out.exportName = exportName;
  return out;
}

/**
 * Paths are resolved here, in the runner, against `baseDir` (the config file's directory), so a
 * child process — whose own location is inside node_modules — loads exactly the same file.
 */
export function resolveModuleUrl(spec: string, baseDir: string): string {
  if (spec.startsWith('file:')) return spec;
  if (spec.startsWith('.') || isAbsolute(spec)) {
    return pathToFileURL(isAbsolute(spec) ? spec : resolve(baseDir, spec)).href;
  }
  // a bare package name: resolve it from the application's directory, not from the runner's
  try {
    return pathToFileURL(createRequire(join(baseDir, 'noop.js')).resolve(spec)).href;
  } catch {
    return spec;
  }
}

/** Import a handler module and pick the function to call. Used by the runner and by children. */
export async function loadHandler(
  url: string,
  exportName: string | undefined,
  queue: string,
): Promise<Handler> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(url);
  } catch (err) {
    throw new ConfigError(
      `cannot load the handler module for queue "${queue}" (${url}): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const picked = exportName !== undefined ? mod[exportName] : (mod['default'] ?? mod['handler']);
  if (typeof picked !== 'function') {
    throw new ConfigError(
      `the handler module for queue "${queue}" (${url}) has no function export "${exportName ?? 'default'}"` +
        (exportName === undefined ? ' or "handler"' : ''),
    );
  }
  return picked as Handler;
}
