import { ConfigError } from '@ilkkun/core';
import type Database from 'better-sqlite3';

/** Bumped whenever the DDL changes; stored in `PRAGMA user_version` of the file. */
export const SCHEMA_VERSION = 1;

export const TABLE = 'ilkkun_jobs';
export const POP_INDEX = 'ilkkun_jobs_pop';

/**
 * Version 1. One row per job; times are integer ms since the epoch (what `Date.now()` gives,
 * so comparisons are exact and cheap). `state` is the stored state: `pending` covers both
 * waiting and delayed, told apart by `run_at` against the clock, so a delayed job becomes
 * ready without anyone having to move it.
 */
const V1 = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  -- AUTOINCREMENT: acked rows are deleted, and a plain rowid would hand the deleted
  -- highest id to the next push. Ids never being reused keeps logs and inspection
  -- unambiguous, and makes id order equal insertion order (the pop tie-breaker).
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  queue            TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'completed', 'dead')),
  -- the JSON text core produced, stored verbatim and never interpreted here
  payload          TEXT    NOT NULL,
  priority         INTEGER NOT NULL,
  run_at           INTEGER NOT NULL,
  attempts_made    INTEGER NOT NULL,
  max_attempts     INTEGER NOT NULL,
  unique_key       TEXT,
  backoff          TEXT,   -- JSON of BackoffOptions
  created_at       INTEGER NOT NULL,
  last_error       TEXT,   -- JSON of JobError, "at" as ms
  lease_token      TEXT,
  lease_expires_at INTEGER,
  -- a lease exists exactly while the job is active: a bug that breaks this fails loudly
  CHECK ((state = 'active') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
) STRICT;

-- Matches the pop query exactly (equality on queue and state, then ORDER BY priority DESC,
-- run_at, id), so a pop reads the first rows of the index instead of sorting the queue.
CREATE INDEX IF NOT EXISTS ${POP_INDEX} ON ${TABLE} (queue, state, priority DESC, run_at, id);

-- A key is held only by live jobs; once a job is acked (deleted) or dead, the key is free again.
CREATE UNIQUE INDEX IF NOT EXISTS ilkkun_jobs_unique ON ${TABLE} (queue, unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('pending', 'active');

-- The earliest run_at of a queue, for an idle pop to sleep until the next delayed job comes
-- due, and "is anything ready?" checks that must not read every delayed job.
CREATE INDEX IF NOT EXISTS ilkkun_jobs_due ON ${TABLE} (queue, run_at) WHERE state = 'pending';

-- Expired leases, found without scanning every active job on every pop.
CREATE INDEX IF NOT EXISTS ilkkun_jobs_lease ON ${TABLE} (queue, lease_expires_at) WHERE state = 'active';
`;

/** DDL per version: MIGRATIONS[n] takes a file from version n to n + 1. */
const MIGRATIONS: readonly string[] = [V1];

const userVersion = (db: Database.Database): number => Number(db.pragma('user_version', { simple: true }));

/**
 * Bring the file to `SCHEMA_VERSION`. Idempotent, and safe when several processes open a new
 * file at once: the version is re-read inside a `BEGIN IMMEDIATE` transaction, so exactly one
 * of them migrates and the others see the result.
 */
export function migrate(db: Database.Database): void {
  // The common case (already current) needs no write lock at all.
  if (checkVersion(db) === SCHEMA_VERSION) return;
  db.transaction(() => {
    const from = checkVersion(db);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    // user_version lives in the file header and is transactional: it commits with the DDL.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function checkVersion(db: Database.Database): number {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new ConfigError(
      `${db.name} has ilkkun schema version ${version}, newer than this @ilkkun/sqlite understands (${SCHEMA_VERSION}); upgrade @ilkkun/sqlite`,
    );
  }
  return version;
}
