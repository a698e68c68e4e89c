import type { BackoffOptions } from './backoff.js';
import type { JsonValue } from './json.js';

/**
 * - `waiting`: ready to run now
 * - `delayed`: `runAt` in the future (scheduled, or waiting out a retry backoff)
 * - `active`: leased to a worker
 * - `completed`: finished; kept only where a backend's retention asks for it
 * - `dead`: failed for good; kept for inspection and manual retry
 */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead';
export const JOB_STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'dead'];

/** What went wrong in one attempt. */
export interface JobError {
  message: string;
  name?: string;
  stack?: string;
  /** the attempt (1-based) that failed */
  attempt: number;
  at: Date;
}

/** The lease a pop hands out. Only its holder may ack, requeue or extend the job. */
export interface Lease {
  token: string;
  expiresAt: Date;
}

/**
 * A job as backends store and return it. `payload` is the JSON text produced by core's
 * `serializePayload`; a backend stores it verbatim and never interprets it.
 */
export interface JobRecord {
  id: string;
  queue: string;
  payload: string;
  /** higher runs first; an integer in the int32 range, default 0 */
  priority: number;
  runAt: Date;
  /** attempts started so far, the current one included (counted when a pop leases the job) */
  attemptsMade: number;
  maxAttempts: number;
  uniqueKey?: string;
  backoff?: BackoffOptions;
  createdAt: Date;
  lastError?: JobError;
  /** filled by inspection calls; pop results are always `active` */
  state?: JobState;
}

export interface LeasedJobRecord extends JobRecord {
  lease: Lease;
}

/** A job as user code sees it: the payload decoded. */
export interface Job<P = JsonValue> extends Omit<JobRecord, 'payload'> {
  payload: P;
}

export interface LeasedJob<P = JsonValue> extends Job<P> {
  lease: Lease;
}

/** What `push` receives: a fully validated job, payload already serialised. */
export interface NewJob {
  queue: string;
  payload: string;
  priority: number;
  runAt: Date;
  maxAttempts: number;
  uniqueKey?: string;
  backoff?: BackoffOptions;
}

export interface PushResult {
  id: string;
  /** true when `uniqueKey` matched a live job of the queue and nothing was inserted; `id` is that job's */
  duplicate: boolean;
}

/** The part of a leased job that identifies the lease: enough to ack, requeue or extend it. */
export interface LeaseHandle {
  id: string;
  queue: string;
  lease: { token: string };
}
