import {
  type BackoffOptions,
  type JobError,
  type JobRecord,
  type JobState,
  leaseExpiredError,
} from '@ilkkun/core';
import type { ServerClock } from './clock.js';

/** One value of a script reply: bulk string, integer, or nil. */
export type Reply = string | number | null;

/** The stored form of a `JobError`; `at` in ms. Lease expiry is stored as a marker (see decodeError). */
interface StoredError {
  expired?: boolean;
  message?: string;
  name?: string;
  stack?: string;
  attempt?: number;
  at?: number;
}

export function encodeError(error: JobError): string {
  // a Date by the contract; tolerate an ISO string or ms from a hand-built error
  const at = new Date(error.at).getTime();
  const stored: StoredError = {
    message: String(error.message),
    attempt: error.attempt,
    at: Number.isFinite(at) ? at : Date.now(),
  };
  if (error.name !== undefined) stored.name = error.name;
  if (error.stack !== undefined) stored.stack = error.stack;
  return JSON.stringify(stored);
}

/**
 * A lease expiry is recorded by a script as `{"expired":true,"attempt":n,"at":serverMs}` and
 * turned into core's `leaseExpiredError` here, so its message and name are exactly every other
 * backend's.
 */
export function decodeError(text: string, clock: ServerClock): JobError {
  const raw = JSON.parse(text) as StoredError;
  const attempt = raw.attempt ?? 0;
  if (raw.expired) return leaseExpiredError(attempt, clock.toClient(raw.at ?? 0).getTime());
  const out: JobError = { message: raw.message ?? '', attempt, at: new Date(raw.at ?? 0) };
  if (raw.name !== undefined) out.name = raw.name;
  if (raw.stack !== undefined) out.stack = raw.stack;
  return out;
}

const num = (v: Reply): number => (typeof v === 'number' ? v : Number(v));

/**
 * Decode a record as the scripts return it (header, payload, lastError, attemptsMade) from
 * `reply[at]`. The header is `priority \t maxAttempts \t createdAt \t runAt \t backoff \t uniqueKey`,
 * uniqueKey last (it may hold tabs).
 */
export function decodeRecord(
  queue: string,
  id: string,
  reply: readonly Reply[],
  at: number,
  clock: ServerClock,
  state: JobState,
): JobRecord {
  const head = String(reply[at]);
  const t1 = head.indexOf('\t');
  const t2 = head.indexOf('\t', t1 + 1);
  const t3 = head.indexOf('\t', t2 + 1);
  const t4 = head.indexOf('\t', t3 + 1);
  const t5 = head.indexOf('\t', t4 + 1);
  const lastError = reply[at + 2];
  const record: JobRecord = {
    id,
    queue,
    payload: String(reply[at + 1]),
    priority: Number(head.slice(0, t1)),
    runAt: clock.toClient(Number(head.slice(t3 + 1, t4))),
    attemptsMade: num(reply[at + 3]!),
    maxAttempts: Number(head.slice(t1 + 1, t2)),
    createdAt: clock.toClient(Number(head.slice(t2 + 1, t3))),
    state,
  };
  if (t5 > t4 + 1) record.backoff = JSON.parse(head.slice(t4 + 1, t5)) as BackoffOptions;
  if (t5 < head.length - 1) record.uniqueKey = head.slice(t5 + 1);
  if (typeof lastError === 'string' && lastError !== '') record.lastError = decodeError(lastError, clock);
  return record;
}
