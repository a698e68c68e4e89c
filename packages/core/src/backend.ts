import type { LeaseLostError } from './errors.js';
import type {
  JobError,
  JobRecord,
  JobState,
  LeasedJobRecord,
  LeaseHandle,
  NewJob,
  PushResult,
} from './job.js';

/**
 * What a backend announces about itself. The conformance suite reads this to decide what to
 * test: a capability set to `false` is reported as *unsupported*, never as passed.
 */
export interface Capabilities {
  /** jobs with a higher `priority` are popped first */
  priorities: boolean;
  /** `runAt` in the future keeps a job invisible until then */
  delays: boolean;
  /** `uniqueKey` de-duplicates against live jobs of the same queue */
  uniqueKeys: boolean;
  /** `extend` (lease heartbeat) works */
  extend: boolean;
  /** `pop` with `waitMs` wakes on the store's own signal (blocking pop, consumer, long poll) rather than polling */
  nativeWait: boolean;
  /** several OS processes can share one store (false only for the in-memory backend) */
  multiProcess: boolean;
  /** the store keeps jobs across a restart of the process (and server) */
  durable: boolean;
  /**
   * Several pops from one client overlap: each is an independent round trip to a server, so a
   * worker pool may keep a second pop out while the first batch runs (false where a pop runs on
   * the caller's own thread, as SQLite's does, or is a test double). Absent = false.
   */
  concurrentPops?: boolean;
  /** smallest lease the backend can honour, in ms (SQS: whole seconds) */
  leaseGranularityMs: number;
  /** the backend's own payload ceiling, if lower than core's default */
  maxPayloadBytes?: number;
  /** which inspection calls `backend.inspector` offers (absent = none) */
  inspect: {
    counts: boolean;
    list: boolean;
    retryDead: boolean;
    deleteJobs: boolean;
    purge: boolean;
  };
}

export interface PopOptions {
  /** most jobs to hand out (default 1) */
  max?: number;
  /** lease length in ms; the job returns to other pops when it ends (default 30 000) */
  leaseMs?: number;
  /** wait up to this long for a job when none is ready (default 0: return at once) */
  waitMs?: number;
  /** aborting ends a wait early; pop then resolves with whatever it has (usually nothing) */
  signal?: AbortSignal;
}

/** What `ackAndPop` leases: like `pop`, but never waits. */
export interface AckAndPopOptions {
  max: number;
  leaseMs: number;
}

export interface AckAndPopResult {
  /** entry i: `null` when job i was acked, else its `LeaseLostError` (as `ackMany`) */
  acked: Array<LeaseLostError | null>;
  jobs: LeasedJobRecord[];
}

export interface RequeueOptions {
  /** when the job may run again (default: now) */
  runAt?: Date;
  /** what went wrong; becomes the job's `lastError` */
  error?: JobError;
  /** move to `dead` instead of scheduling another attempt */
  dead?: boolean;
  /**
   * The job was handed back without being attempted (graceful shutdown): the attempt counted
   * by the pop is given back. `error` is ignored.
   */
  release?: boolean;
}

export interface ListOptions {
  offset?: number;
  /** default 50, at most 1000 */
  limit?: number;
}

export type StateCounts = Record<JobState, number>;

/**
 * Optional operations for the CLI and dashboard. Each one a backend offers is flagged in
 * `capabilities.inspect`; the rest throw `UnsupportedFeatureError`.
 */
export interface Inspector {
  /** queues that currently hold jobs in any state */
  queues(): Promise<string[]>;
  counts(queue: string): Promise<StateCounts>;
  /** jobs of one state, in pop order for waiting/delayed, newest first for completed/dead */
  list(queue: string, state: JobState, options?: ListOptions): Promise<JobRecord[]>;
  getJob(queue: string, id: string): Promise<JobRecord | undefined>;
  /** move dead jobs (all, or these ids) back to waiting with their attempt count reset; returns how many moved */
  retryDead(queue: string, ids?: readonly string[]): Promise<number>;
  /** delete jobs of a state that is not active (all, or these ids); returns how many went */
  deleteJobs(queue: string, state: Exclude<JobState, 'active'>, ids?: readonly string[]): Promise<number>;
  /** delete every job of the queue in every state, active ones too (their leases are then lost) */
  purge(queue: string): Promise<number>;
}

/**
 * The storage contract. Four verbs (push, pop-with-lock, ack, requeue), plus `extend` and
 * `close`. Core validates and serialises everything before a backend sees it: queue names are
 * valid, payloads are JSON text within the limit, priorities are int32, attempts ≥ 1.
 *
 * Rules every implementation keeps (the conformance suite checks them):
 * - `pop` order: higher `priority` first, then earlier `runAt`, then insertion order.
 * - A popped job is invisible to every other pop until its lease ends. Pop counts the attempt.
 * - When a lease ends without ack/requeue, the job is available again (`lastError` says
 *   "lease expired"); if its attempts are used up it goes to `dead` instead, so a job that
 *   kills its worker cannot loop forever.
 * - ack/requeue/extend with a lease that is not the job's current one reject with
 *   `LeaseLostError` and change nothing: a job completes at most once per lease.
 * - An acknowledged push is never lost while the store keeps its data; `close()` loses nothing.
 *
 * Deliberately not in the contract: connection management, transactions across calls,
 * native names — each backend owns those.
 */
export interface Backend {
  /** short name for messages and reports, e.g. "sqlite" */
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly inspector?: Inspector;

  /** insert jobs (one round trip where the store allows); results in input order */
  push(jobs: readonly NewJob[]): Promise<PushResult[]>;
  /** lease up to `max` ready jobs from any of `queues` */
  pop(queues: readonly string[], options?: PopOptions): Promise<LeasedJobRecord[]>;
  /** the job is done; it is deleted (or kept as completed where retention asks) */
  ack(job: LeaseHandle): Promise<void>;
  /**
   * Optional batch ack: one round trip for many jobs. Entry i is `null` when job i was acked,
   * or the `LeaseLostError` for it (the others are still acked). Use core's `ackMany()`, which
   * falls back to single acks for backends without it.
   */
  ackMany?(jobs: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>>;
  /**
   * Optional "finish and fetch": ack `jobs` (as `ackMany`), then lease up to `options.max` jobs
   * that are ready now from `queues` (as `pop` with `waitMs: 0`), in one round trip. A worker
   * pool refilling the slots its finished jobs just left calls this instead of an ack and a pop.
   * The acks happen whatever the pop finds; an error rejects the whole call (as either would).
   * Use core's `ackAndPop()`, which falls back to `ackMany` + `pop` side by side.
   */
  ackAndPop?(
    jobs: readonly LeaseHandle[],
    queues: readonly string[],
    options: AckAndPopOptions,
  ): Promise<AckAndPopResult>;
  /** give the job back: counted, error recorded, delayed to `runAt` or moved to dead */
  requeue(job: LeaseHandle, options?: RequeueOptions): Promise<void>;
  /** lengthen the lease to `leaseMs` from now; returns the new deadline */
  extend(job: LeaseHandle, leaseMs: number): Promise<Date>;
  /** release connections; jobs in flight keep their leases, which expire as usual */
  close(): Promise<void>;
}

export const DEFAULT_LEASE_MS = 30_000;
