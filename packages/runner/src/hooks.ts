import type { JobError, LeasedJob } from '@ilkkun/core';
import type { WorkerInfo } from './events.js';

/** The outcome afterWork sees. */
export type WorkOutcome = { ok: true; result: unknown } | { ok: false; error: Error };

/**
 * Qudo's hook points around work, Celery's worker_init/shutdown (before/after *enqueue* hooks
 * live on core's `Client`). All run in the runner's process, also in `process` mode.
 * - `beforeWork` throwing fails the attempt (it is retried like any failure).
 * - `afterWork`, `onFailure`, `onWorkerStart`, `onWorkerStop` throwing is reported as an
 *   `error` event and changes nothing.
 */
export interface RunnerHooks {
  beforeWork?: (job: LeasedJob<unknown>) => void | Promise<void>;
  /** after the handler settled, before the job is acked or requeued */
  afterWork?: (job: LeasedJob<unknown>, outcome: WorkOutcome) => void | Promise<void>;
  /** after a failed attempt was recorded (retry scheduled or job dead) */
  onFailure?: (
    job: LeasedJob<unknown>,
    error: JobError,
    info: { willRetry: boolean; runAt?: Date },
  ) => void | Promise<void>;
  onWorkerStart?: (worker: WorkerInfo) => void | Promise<void>;
  onWorkerStop?: (worker: WorkerInfo) => void | Promise<void>;
}
