import type { Backend } from '@ilkkun/core';
import { resolveOptions } from './options.js';
import { parseSqliteUrl } from './parse-url.js';
import { SqliteBackend } from './sqlite-backend.js';

export type { ResolvedSqliteOptions, SqliteBackendOptions, SynchronousMode } from './options.js';
export { DEFAULT_OPTIONS } from './options.js';
export { type ParsedSqliteUrl, parseSqliteUrl } from './parse-url.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteBackend } from './sqlite-backend.js';

/**
 * What core's `openBackend` calls for a `sqlite:` URL. Options come from the URL query and
 * from `options` (which wins); unknown ones are a `ConfigError`.
 *
 * @example createBackend('sqlite:./ilkkun.db') // relative to the working directory
 * @example createBackend('sqlite:///var/lib/app/jobs.db?busyTimeoutMs=10000')
 */
export async function createBackend(url: string, options: Record<string, unknown> = {}): Promise<Backend> {
  const { file, params } = parseSqliteUrl(url);
  return new SqliteBackend(file, resolveOptions(params, options));
}
