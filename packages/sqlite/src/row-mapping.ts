import type { BackoffOptions, JobError, JobRecord, JobState, LeasedJobRecord } from '@ilkkun/core';

/** What the `state` column holds; `pending` is waiting or delayed depending on `run_at`. */
export type StoredState = 'pending' | 'active' | 'completed' | 'dead';

/** One row of `ilkkun_jobs`, as better-sqlite3 returns it. */
export interface JobRow {
  id: number;
  queue: string;
  state: StoredState;
  payload: string;
  priority: number;
  run_at: number;
  attempts_made: number;
  max_attempts: number;
  unique_key: string | null;
  backoff: string | null;
  created_at: number;
  last_error: string | null;
  lease_token: string | null;
  lease_expires_at: number | null;
}

/** Named explicitly (not `*`) so a column added by a later migration cannot change the row shape. */
export const JOB_COLUMNS =
  'id, queue, state, payload, priority, run_at, attempts_made, max_attempts, unique_key, backoff, created_at, last_error, lease_token, lease_expires_at';

/** Pop order: higher priority, then earlier run_at, then insertion order (id). */
export function popOrder(a: JobRow, b: JobRow): number {
  return b.priority - a.priority || a.run_at - b.run_at || a.id - b.id;
}

export function publicState(row: JobRow, now: number): JobState {
  if (row.state === 'pending') return row.run_at > now ? 'delayed' : 'waiting';
  return row.state;
}

export function toRecord(row: JobRow, state: JobState): JobRecord {
  const out: JobRecord = {
    id: String(row.id),
    queue: row.queue,
    payload: row.payload,
    priority: row.priority,
    runAt: new Date(row.run_at),
    attemptsMade: row.attempts_made,
    maxAttempts: row.max_attempts,
    createdAt: new Date(row.created_at),
    state,
  };
  if (row.unique_key !== null) out.uniqueKey = row.unique_key;
  if (row.backoff !== null) out.backoff = JSON.parse(row.backoff) as BackoffOptions;
  if (row.last_error !== null) out.lastError = decodeError(row.last_error);
  return out;
}

export function toLeased(row: JobRow): LeasedJobRecord {
  if (row.lease_token === null || row.lease_expires_at === null) {
    throw new Error(`internal: job ${row.id} has no lease to hand out`);
  }
  return {
    ...toRecord(row, 'active'),
    lease: { token: row.lease_token, expiresAt: new Date(row.lease_expires_at) },
  };
}

/** Dates become ms so the stored JSON is compact and round-trips exactly. */
export function encodeError(error: JobError): string {
  return JSON.stringify({ ...error, at: toMillis(error.at) });
}

export function decodeError(text: string): JobError {
  const raw = JSON.parse(text) as Omit<JobError, 'at'> & { at: number | string };
  return { ...raw, at: new Date(raw.at) };
}

/** Ms since the epoch of a Date (or anything `new Date` accepts); NaN when it is not a time. */
export function toMillis(value: Date | number | string): number {
  return value instanceof Date ? value.getTime() : new Date(value).getTime();
}

/**
 * Job ids are the decimal rowid. Anything else cannot name a row, so callers treat it as
 * "no such job" (a `LeaseLostError` for ack/requeue/extend, `undefined` for getJob).
 */
export function parseJobId(id: string): number | undefined {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}
