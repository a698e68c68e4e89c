import { BackendUnavailableError, ConfigError } from '@ilkkun/core';

/** better-sqlite3's `SqliteError` carries SQLite's extended result code name, e.g. `SQLITE_BUSY_SNAPSHOT`. */
function sqliteCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Codes that mean "try again later", not "this is wrong":
 * - BUSY / LOCKED: another connection (often another process) held the lock past `busy_timeout`.
 * - PROTOCOL: a WAL-index lock race that SQLite itself gave up retrying.
 * - FULL: the disk is full; freeing space fixes it without changing anything here.
 */
const TRANSIENT = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL', 'SQLITE_FULL'];

/** Codes that mean the file itself cannot be used: a configuration problem, not a passing one. */
const UNUSABLE_FILE = ['SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_AUTH'];

const matches = (code: string, prefixes: readonly string[]) =>
  prefixes.some((p) => code === p || code.startsWith(`${p}_`));

/** The lock is held by another connection; the same call may succeed a moment later. */
export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && matches(code, ['SQLITE_BUSY', 'SQLITE_LOCKED']);
}

/** Turn a driver error into the ilkkun error a caller can act on; anything else passes through unchanged. */
export function translateSqliteError(err: unknown, action: string, file: string): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (matches(code, TRANSIENT)) {
    return new BackendUnavailableError(`sqlite ${action} on ${file} failed (${code}: ${detail})`, {
      cause: err,
    });
  }
  if (matches(code, UNUSABLE_FILE)) {
    return new ConfigError(`sqlite cannot use ${file} (${code}: ${detail})`, { cause: err });
  }
  return err;
}

/** Run `fn`, translating SQLite errors (see `translateSqliteError`). */
export function guard<T>(action: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translateSqliteError(err, action, file);
  }
}
