import type { BackoffOptions, JobError, JobRecord, JobState } from '@ilkkun/core';
import type { RowDataPacket } from 'mysql2/promise';
import { decodeArg } from './arg-codec.js';
import type { ServerClock } from './clock.js';

/** One `job` row as selected with `SqlKit.jobColumns` (BIGINTs arrive as strings: `bigNumberStrings`). */
export interface JobRow extends RowDataPacket {
  jobid: string;
  funcid: number;
  arg: Buffer | null;
  uniqkey: string | null;
  insert_time: number | null;
  run_after: number;
  grabbed_until: number;
  priority: number | null;
  coalesce: string | null;
  ilkkun_priority: number | null;
  ilkkun_run_at_ms: string | null;
  ilkkun_max_attempts: number | null;
  ilkkun_backoff: string | null;
  ilkkun_lease_token: string | null;
  ilkkun_lease_ms: string | null;
  ilkkun_last_error: string | null;
  ilkkun_prio_key: string;
  ilkkun_due_ms: string;
}

/** One `ilkkun_dead` row. */
export interface DeadRow extends RowDataPacket {
  jobid: string;
  funcid: number;
  arg: Buffer | null;
  uniqkey: string | null;
  insert_time: number | null;
  run_after: number;
  priority: number | null;
  ilkkun_priority: number | null;
  ilkkun_run_at_ms: string | null;
  ilkkun_max_attempts: number | null;
  ilkkun_backoff: string | null;
  ilkkun_last_error: string | null;
  attempts: number;
  died_at_ms: string;
}

/** The newest `error` row of a job, for jobs a Perl worker failed (no ilkkun_last_error of its own). */
export interface ErrorInfo {
  failures: number;
  message?: string;
  at?: number;
}

/** The columns that decide pop order. */
export type PopOrderKeys = Pick<JobRow, 'jobid' | 'ilkkun_prio_key' | 'ilkkun_due_ms'>;

/** Pop order of two rows: priority (negated), runAt, jobid. */
export function compareRows(a: PopOrderKeys, b: PopOrderKeys): number {
  return (
    Number(a.ilkkun_prio_key) - Number(b.ilkkun_prio_key) ||
    Number(a.ilkkun_due_ms) - Number(b.ilkkun_due_ms) ||
    compareIds(a.jobid, b.jobid)
  );
}

/** Decimal ids compared as numbers, beyond 2^53 too. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Priority as ilkkun sees it: its own exact value, else what a Perl client wrote (NULL = 0). */
export const rowPriority = (row: { ilkkun_priority: number | null; priority: number | null }): number =>
  row.ilkkun_priority ?? row.priority ?? 0;

export interface MapContext {
  queue: string;
  clock: ServerClock;
  defaultMaxAttempts: number;
}

/** A job row as core's JobRecord. `attemptsMade` and `lastError` come from the error rows (see `ErrorInfo`). */
export function toRecord(
  row: JobRow | DeadRow,
  state: JobState,
  errors: ErrorInfo,
  attemptsMade: number,
  ctx: MapContext,
  /** the payload when the caller already decoded `arg` */
  payload?: string,
): JobRecord {
  const fromIlkkun = row.ilkkun_max_attempts !== null;
  const runAtMs = 'ilkkun_due_ms' in row ? Number(row.ilkkun_due_ms) : dueOf(row);
  const out: JobRecord = {
    id: String(row.jobid),
    queue: ctx.queue,
    payload: payload ?? decodeArg(row.arg, fromIlkkun).payload,
    priority: rowPriority(row),
    runAt: ctx.clock.toLocal(runAtMs),
    attemptsMade,
    maxAttempts: row.ilkkun_max_attempts ?? ctx.defaultMaxAttempts,
    createdAt: ctx.clock.toLocal(row.insert_time !== null ? row.insert_time * 1000 : runAtMs),
    state,
  };
  if (row.uniqkey !== null) out.uniqueKey = row.uniqkey;
  if (row.ilkkun_backoff !== null) out.backoff = JSON.parse(row.ilkkun_backoff) as BackoffOptions;
  const lastError = lastErrorOf(row.ilkkun_last_error, errors);
  if (lastError) out.lastError = lastError;
  return out;
}

/** ilkkun's own record of the last error, unless a Perl worker failed the job since (more error rows). */
export function lastErrorOf(json: string | null, errors: ErrorInfo): JobError | undefined {
  const own = json === null ? undefined : decodeError(json);
  if (own && own.attempt >= errors.failures) return own;
  if (errors.message !== undefined) {
    return { message: errors.message, attempt: errors.failures, at: new Date((errors.at ?? 0) * 1000) };
  }
  return own;
}

function dueOf(row: DeadRow): number {
  const ms = row.ilkkun_run_at_ms === null ? undefined : Number(row.ilkkun_run_at_ms);
  return ms !== undefined && row.run_after >= Math.floor(ms / 1000) && row.run_after <= Math.ceil(ms / 1000)
    ? ms
    : row.run_after * 1000;
}

/** Dates become ms so the stored JSON is compact and round-trips exactly. */
export function encodeError(error: JobError): string {
  return JSON.stringify({ ...error, at: error.at instanceof Date ? error.at.getTime() : error.at });
}

export function decodeError(text: string): JobError {
  const raw = JSON.parse(text) as Omit<JobError, 'at'> & { at: number | string };
  return { ...raw, at: new Date(raw.at) };
}

/**
 * Job ids are decimal `jobid`s. Anything else cannot name a row, so callers treat it as "no such
 * job" (a LeaseLostError for ack/requeue/extend, undefined for getJob), and it never reaches SQL.
 */
export function parseJobId(id: string): string | undefined {
  return typeof id === 'string' && /^[1-9][0-9]{0,19}$/.test(id) && id.length <= 20 ? id : undefined;
}

/** A job's newest `error` row must be read: ilkkun recorded no error of its own for its latest failure. */
export function needsErrorMessage(json: string | null, failures: number): boolean {
  if (json === null) return true;
  try {
    const attempt = (JSON.parse(json) as { attempt?: unknown }).attempt;
    return typeof attempt !== 'number' || attempt < failures;
  } catch {
    return true;
  }
}
