import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '@ilkkun/core';
import Database from 'better-sqlite3';
import { BUSY_SLICE_MS } from './busy-retry.js';
import type { ResolvedSqliteOptions } from './options.js';
import { migrate } from './schema.js';
import { guard } from './sqlite-errors.js';

/**
 * Open (creating if needed) the database file, configure the connection and bring the schema
 * up to date. Every failure closes the half-open connection before it is thrown.
 */
export function openDatabase(file: string, options: ResolvedSqliteOptions): Database.Database {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (cause) {
    throw new ConfigError(`cannot create the directory for the sqlite file ${file}`, { cause });
  }
  // `timeout` is SQLite's busy_timeout: a locked file is retried for this long before
  // SQLITE_BUSY, which is what lets several OS processes share one file. Opening is a one-off,
  // so it may block for the whole timeout (a migration by another process, say).
  const db = guard('open', file, () => new Database(file, { timeout: options.busyTimeoutMs }));
  try {
    guard('open', file, () => configure(db, file, options));
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: Database.Database, file: string, options: ResolvedSqliteOptions): void {
  // WAL: readers never block the writer and vice versa, and a commit is one append (plus one
  // fsync) instead of a rollback-journal dance. The mode is persistent in the file.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    // WAL needs shared memory between processes, which network filesystems do not offer.
    throw new ConfigError(
      `sqlite could not switch ${file} to WAL mode (got "${String(mode)}"); is it on a network filesystem?`,
    );
  }
  // FULL by default: in WAL mode NORMAL syncs only at checkpoints, so a power cut could drop
  // commits that push() had already acknowledged. See options.ts and the README.
  db.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
  migrate(db);
  // From now on SQLite itself waits only briefly; withBusyRetry waits out the rest asynchronously.
  db.pragma(`busy_timeout = ${Math.min(BUSY_SLICE_MS, options.busyTimeoutMs)}`);
}
