import { InvalidJobOptionsError } from './errors.js';

/**
 * How long to wait before the next attempt of a failed job. Stored with the job (so any
 * worker, in any process, applies the producer's choice); the runner may also supply a
 * custom function, which takes precedence.
 */
export type BackoffOptions =
  | { type: 'fixed'; delayMs: number }
  | {
      type: 'exponential';
      /** delay before the 2nd attempt; doubles each time */
      delayMs: number;
      /** upper bound for one delay (default 1 hour) */
      maxDelayMs?: number;
      /** 0..1: fraction of the delay that is randomised ("full jitter" at 1). Default 0.2 */
      jitter?: number;
    };

export const DEFAULT_BACKOFF: BackoffOptions = {
  type: 'exponential',
  delayMs: 1000,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
};

/**
 * Delay in ms before attempt `attemptsMade + 1`, given that `attemptsMade` attempts (≥ 1) have
 * run. `random` is injectable so tests can pin the jitter.
 */
export function backoffDelay(
  backoff: BackoffOptions,
  attemptsMade: number,
  random: () => number = Math.random,
): number {
  if (backoff.type === 'fixed') return backoff.delayMs;
  const max = backoff.maxDelayMs ?? 3_600_000;
  const exponent = Math.max(0, attemptsMade - 1);
  const base = Math.min(max, backoff.delayMs * 2 ** Math.min(exponent, 40));
  const jitter = backoff.jitter ?? 0.2;
  // Jitter spreads retries of jobs that failed together (a dead downstream) so they do not
  // return in one thundering herd.
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

export function validateBackoff(value: unknown): BackoffOptions {
  const fail = (why: string): never => {
    throw new InvalidJobOptionsError(`backoff ${why}`);
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail('must be a non-negative number of ms');
    return { type: 'fixed', delayMs: Math.round(value) };
  }
  if (typeof value !== 'object' || value === null) return fail('must be a number of ms or { type, delayMs }');
  const v = value as Record<string, unknown>;
  const delayMs = v['delayMs'];
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    fail('delayMs must be a non-negative number');
  }
  if (v['type'] === 'fixed') return { type: 'fixed', delayMs: Math.round(delayMs as number) };
  if (v['type'] !== 'exponential') return fail('type must be "fixed" or "exponential"');
  const out: BackoffOptions = { type: 'exponential', delayMs: Math.round(delayMs as number) };
  if (v['maxDelayMs'] !== undefined) {
    const m = v['maxDelayMs'];
    if (typeof m !== 'number' || !Number.isFinite(m) || m < 0)
      fail('maxDelayMs must be a non-negative number');
    out.maxDelayMs = Math.round(m as number);
  }
  if (v['jitter'] !== undefined) {
    const j = v['jitter'];
    if (typeof j !== 'number' || !(j >= 0 && j <= 1)) fail('jitter must be between 0 and 1');
    out.jitter = j as number;
  }
  return out;
}
