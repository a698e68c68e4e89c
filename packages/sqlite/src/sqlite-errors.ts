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

/**
 * What is wrong with the file and what to do, per unusable-file code (the CLI prints the advice
 * as its hint instead of the generic "a backend URL looks like…").
 */
function unusableFile(code: string, file: string): { what: string; hint: string } {
  if (matches(code, ['SQLITE_NOTADB'])) {
    return {
      what: `the file at ${file} is not an SQLite database`,
      hint: `point the URL at another file (e.g. sqlite:./ilkkun.db, created if missing); move ${file} away only if nothing else needs it`,
    };
  }
  if (matches(code, ['SQLITE_CANTOPEN'])) {
    return {
      what: `sqlite cannot open the file at ${file}`,
      hint: `check that ${file} is a file (not a directory) in a directory this user can write to`,
    };
  }
  return {
    what: `sqlite cannot write to the file at ${file}`,
    hint: `give this user write access to ${file} and to its directory (SQLite writes ${file}-wal and ${file}-shm next to it)`,
  };
}

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
    const { what, hint } = unusableFile(code, file);
    return new ConfigError(`${what} (${code}: ${detail})`, { cause: err, hint });
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
