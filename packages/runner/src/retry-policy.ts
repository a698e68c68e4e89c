import type { BackoffOptions, JobError, JobRecord } from '@ilkkun/core';
import { backoffDelay, DEFAULT_BACKOFF } from '@ilkkun/core';
import type { BackoffFn } from './config.js';

/** Stored error text is capped: a runaway message must not bloat every row of the store. */
const MAX_MESSAGE_CHARS = 2_000;
const MAX_STACK_CHARS = 8_000;

export type FailureDecision =
  | { kind: 'retry'; runAt: Date; delayMs: number }
  | { kind: 'dead'; reason: 'attempts-exhausted' | 'unrecoverable' };

/** What gets recorded as the job's `lastError` for a failed attempt. */
export function toJobError(err: unknown, attempt: number, at: Date = new Date()): JobError {
  let name = 'Error';
  let message: string;
  let stack: string | undefined;
  if (err instanceof Error) {
    name = err.name;
    message = err.message;
    stack = err.stack;
  } else {
    message = typeof err === 'string' ? err : `non-Error thrown: ${String(err)}`;
  }
  const out: JobError = { message: message.slice(0, MAX_MESSAGE_CHARS), name, attempt, at };
  if (stack !== undefined) out.stack = stack.slice(0, MAX_STACK_CHARS);
  return out;
}

/**
 * Retry or bury. Attempts are counted by `pop`, so `attemptsMade` already includes the one that
 * just failed. Delay precedence: a custom function (the runner's own policy) over the job's
 * `backoff` (the producer's choice, stored with the job) over the queue's backoff options.
 */
export function decideFailure(
  job: Pick<JobRecord, 'attemptsMade' | 'maxAttempts' | 'backoff'>,
  error: Error,
  queueBackoff: BackoffOptions | BackoffFn,
  now: number = Date.now(),
): FailureDecision {
  if (error.name === 'UnrecoverableError') return { kind: 'dead', reason: 'unrecoverable' };
  if (job.attemptsMade >= job.maxAttempts) return { kind: 'dead', reason: 'attempts-exhausted' };
  const delayMs = retryDelay(job, error, queueBackoff);
  return { kind: 'retry', runAt: new Date(now + delayMs), delayMs };
}

function retryDelay(
  job: Pick<JobRecord, 'attemptsMade' | 'backoff'>,
  error: Error,
  queueBackoff: BackoffOptions | BackoffFn,
): number {
  const fallback = job.backoff ?? (typeof queueBackoff === 'function' ? DEFAULT_BACKOFF : queueBackoff);
  if (typeof queueBackoff === 'function') {
    try {
      const ms = queueBackoff(job.attemptsMade, error);
      // A broken custom policy must not lose the job: fall back to the stored/default backoff.
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
    } catch {
      // same: fall through to the fallback
    }
  }
  return backoffDelay(fallback, job.attemptsMade);
}
