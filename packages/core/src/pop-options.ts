import { DEFAULT_LEASE_MS, type PopOptions } from './backend.js';
import { ConfigError } from './errors.js';
import { JOB_STATES, type JobState } from './job.js';

/** Longest lease or wait a caller may ask for: ~24 days, the largest delay `setTimeout` honours. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface NormalizedPopOptions {
  max: number;
  leaseMs: number;
  waitMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Defaults and checks for `pop` options, the same for every backend: `max` an integer ≥ 1
 * (default 1), `leaseMs` > 0 (default 30 s), `waitMs` ≥ 0 (default 0). Bad values are a
 * `ConfigError` before the store is touched.
 */
export function normalizePopOptions(options: PopOptions = {}): NormalizedPopOptions {
  const max = options.max ?? 1;
  if (!Number.isInteger(max) || max < 1) throw new ConfigError(`pop max must be an integer ≥ 1 (got ${max})`);
  const leaseMs = assertLeaseMs(options.leaseMs ?? DEFAULT_LEASE_MS, 'pop leaseMs');
  const waitMs = options.waitMs ?? 0;
  if (typeof waitMs !== 'number' || !(waitMs >= 0 && waitMs <= MAX_TIMER_MS)) {
    throw new ConfigError(`pop waitMs must be between 0 and ${MAX_TIMER_MS} ms (got ${waitMs})`);
  }
  return { max, leaseMs, waitMs, signal: options.signal };
}

/** A lease length for pop or extend: a positive number of ms up to ~24 days. */
export function assertLeaseMs(leaseMs: number, what = 'leaseMs'): number {
  if (typeof leaseMs !== 'number' || !(leaseMs > 0 && leaseMs <= MAX_TIMER_MS)) {
    throw new ConfigError(`${what} must be between 1 and ${MAX_TIMER_MS} ms (got ${leaseMs})`);
  }
  return Math.ceil(leaseMs);
}

/** A state name from a caller (CLI, dashboard) checked against the five states. */
export function assertJobState(state: unknown, allowActive = true): asserts state is JobState {
  if (!JOB_STATES.includes(state as JobState) || (!allowActive && state === 'active')) {
    const allowed = allowActive ? JOB_STATES : JOB_STATES.filter((s) => s !== 'active');
    throw new ConfigError(
      `unknown or unusable job state ${JSON.stringify(state)}; use one of ${allowed.join(', ')}`,
    );
  }
}
