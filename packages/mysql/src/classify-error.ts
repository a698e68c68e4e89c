import { BackendUnavailableError, ConfigError, IlkkunError, redactUrl } from '@ilkkun/core';

/**
 * What a driver or server error means for the caller:
 * - `deadlock`: InnoDB chose this transaction as a deadlock victim and rolled it back whole;
 *   running the same transaction again is the documented remedy.
 * - `lock-timeout`: waited `innodb_lock_wait_timeout` for a row lock; only the statement was
 *   rolled back, so the backend rolls back the rest and runs the transaction again.
 * - `connection`: the connection broke (server restart, network, killed session). An open
 *   transaction on it is rolled back by the server, so the work can be redone on a new one.
 * - `duplicate`: a UNIQUE index refused the row (unique keys, funcmap races): callers handle it.
 * - `config`: retrying cannot help (bad login, unknown database, missing table).
 * - `other`: a bug or an unexpected server answer; passed through.
 */
export type ErrorKind = 'deadlock' | 'lock-timeout' | 'connection' | 'duplicate' | 'config' | 'other';

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  message?: unknown;
}

const DEADLOCK = new Set([1213]);
// 1205 lock wait timeout; 3572 (MySQL) NOWAIT lock refused
const LOCK_TIMEOUT = new Set([1205, 3572]);
// 1040 too many connections, 1053 server shutdown, 1927 connection killed (MariaDB),
// 2006 / 2013 server gone / lost, 4031 (MySQL) disconnected by the server for inactivity,
// 1969 (MariaDB) statement timeout, 1317 query interrupted (e.g. KILL QUERY during shutdown)
const CONNECTION_ERRNO = new Set([1040, 1053, 1927, 2006, 2013, 4031, 1317]);
const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const DUPLICATE = new Set([1062, 1586]);
// 1044/1045 access denied, 1049 unknown database, 1146 no such table, 1054 unknown column,
// 1142/1143 command/column denied, 1227 needs privilege
const CONFIG = new Set([1044, 1045, 1049, 1146, 1054, 1142, 1143, 1227]);

export function classifyError(err: unknown): ErrorKind {
  if (typeof err !== 'object' || err === null) return 'other';
  const e = err as DriverError;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (errno !== undefined) {
    if (DEADLOCK.has(errno)) return 'deadlock';
    if (LOCK_TIMEOUT.has(errno)) return 'lock-timeout';
    if (DUPLICATE.has(errno)) return 'duplicate';
    if (CONNECTION_ERRNO.has(errno)) return 'connection';
    if (CONFIG.has(errno)) return 'config';
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) return 'connection';
  if (code === 'ENOTFOUND') return 'config';
  // mysql2 marks errors after which the connection is unusable as fatal
  if (e.fatal === true) return 'connection';
  if (typeof e.message === 'string' && /^Pool is closed|Connection lost/i.test(e.message))
    return 'connection';
  return 'other';
}

/** Worth running the whole transaction again on a fresh connection. */
export const isRetryable = (kind: ErrorKind): boolean =>
  kind === 'deadlock' || kind === 'lock-timeout' || kind === 'connection';

/**
 * The ilkkun error a caller can act on: transient problems become a retryable
 * `BackendUnavailableError`, configuration problems a `ConfigError`; ilkkun's own errors and
 * anything unexpected pass through unchanged. The URL in messages is always redacted.
 */
export function translateError(err: unknown, action: string, where: string): unknown {
  if (err instanceof IlkkunError) return err;
  const kind = classifyError(err);
  const detail = redactUrl(err instanceof Error ? err.message : String(err));
  if (isRetryable(kind)) {
    return new BackendUnavailableError(`mysql ${action} on ${where} failed (${kind}): ${detail}`, {
      cause: err,
    });
  }
  if (kind === 'config') {
    return new ConfigError(`mysql ${action} on ${where} failed: ${detail}`, { cause: err });
  }
  return err;
}
