import type { Backend } from '@ilkkun/core';
import { MysqlBackend } from './mysql-backend.js';
import { resolveOptions } from './options.js';
import { parseMysqlUrl } from './parse-url.js';
import type { MigrateResult } from './schema.js';

export { type ArgCodec, ArgDecodeError, decodeArg, encodeArg } from './arg-codec.js';
export { classifyError, type ErrorKind } from './classify-error.js';
export { type Flavor, type FlavorName, flavorOf, QUDO, THESCHWARTZ } from './flavors/index.js';
export { MysqlBackend } from './mysql-backend.js';
export {
  type ClaimStrategy,
  DEFAULT_OPTIONS,
  type MysqlBackendOptions,
  type ResolvedMysqlOptions,
  resolveOptions,
  type SchemaMode,
} from './options.js';
export { type ParsedMysqlUrl, parseMysqlUrl } from './parse-url.js';
export { JOB_EXTRA_COLUMNS, type MigrateResult, POP_INDEX, type SchemaReport } from './schema.js';
export { looksLikeStorable, readStorable, StorableError, writeStorable } from './storable.js';

/**
 * What core's `openBackend` calls for `mysql:` and `mariadb:` URLs. Options come from the URL
 * query and from `options` (which wins); unknown ones are a `ConfigError`.
 *
 * @example createBackend('mysql://app:secret@127.0.0.1:3306/jobs')
 * @example createBackend('mariadb://root@127.0.0.1/test?connectionLimit=20&pollMaxMs=50')
 */
export async function createBackend(url: string, options: Record<string, unknown> = {}): Promise<Backend> {
  return openMysqlBackend(url, options);
}

/** `createBackend` with the concrete class, for `migrate()` / `verifySchema()` and the claim strategy. */
export async function openMysqlBackend(
  url: string,
  options: Record<string, unknown> = {},
): Promise<MysqlBackend> {
  const target = parseMysqlUrl(url);
  return MysqlBackend.open(target, resolveOptions(target.params, options), url);
}

/**
 * `ilkkun migrate`: connect to `url` and add what the schema lacks (the TheSchwartz tables, or
 * Qudo's with `?flavor=qudo`; ilkkun's columns and index; `ilkkun_dead`) without touching any
 * row; or, with `verifyOnly`, only report.
 */
export async function migrateSchema(
  url: string,
  options: { verifyOnly?: boolean } & Record<string, unknown> = {},
): Promise<MigrateResult> {
  const { verifyOnly, ...rest } = options;
  const target = parseMysqlUrl(url);
  const backend = await MysqlBackend.open(target, resolveOptions(target.params, rest), url, {
    skipSchema: true,
  });
  try {
    if (verifyOnly) return { applied: [], report: await backend.verifySchema() };
    return await backend.migrate();
  } finally {
    await backend.close();
  }
}
