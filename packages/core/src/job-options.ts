import { type BackoffOptions, validateBackoff } from './backoff.js';
import { InvalidJobOptionsError } from './errors.js';
import type { NewJob } from './job.js';
import { assertQueueName } from './queue-name.js';
import { serializePayload } from './serialize.js';

/** Options for one job, as a producer gives them. */
export interface AddOptions {
  /** higher runs first; an integer in the int32 range (default 0) */
  priority?: number;
  /** run no earlier than this many ms from now */
  delay?: number;
  /** run no earlier than this time (exclusive with `delay`) */
  runAt?: Date | number;
  /** total attempts before the job goes to dead (default 3) */
  attempts?: number;
  /** wait between attempts: ms (fixed) or { type, delayMs, ... } (default exponential from 1 s) */
  backoff?: number | BackoffOptions;
  /** while a live job of this queue holds the key, adding another returns the existing id */
  uniqueKey?: string;
}

export const DEFAULT_ATTEMPTS = 3;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
/** ~100 years: anything later is almost certainly a unit mistake (µs or ns instead of ms) */
const MAX_DELAY_MS = 100 * 365 * 24 * 3_600_000;
const MAX_DELAY_TEXT = `100 years (100 × 365 days = ${MAX_DELAY_MS} ms)`;

/** A value as the caller wrote it, short enough for a message. */
function shown(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an Invalid Date' : value.toISOString();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 60));
  return typeof value;
}
const ALLOWED_KEYS = new Set(['priority', 'delay', 'runAt', 'attempts', 'backoff', 'uniqueKey']);

/**
 * Validate a producer's job and turn it into what `Backend.push` receives. Throws before
 * anything is written: a bad queue name, a payload that is not JSON or too large, or an
 * option out of range.
 */
export function buildNewJob(
  queue: string,
  payload: unknown,
  options: AddOptions = {},
  limits: { maxPayloadBytes: number; now?: number },
): NewJob {
  assertQueueName(queue);
  if (typeof options !== 'object' || options === null)
    throw new InvalidJobOptionsError('options must be an object');
  for (const key of Object.keys(options)) {
    if (!ALLOWED_KEYS.has(key)) throw new InvalidJobOptionsError(`unknown option "${key}"`);
  }
  const now = limits.now ?? Date.now();
  const job: NewJob = {
    queue,
    payload: serializePayload(payload, limits.maxPayloadBytes),
    priority: 0,
    runAt: new Date(now),
    maxAttempts: DEFAULT_ATTEMPTS,
  };
  if (options.priority !== undefined) {
    const p = options.priority;
    if (!Number.isInteger(p) || p < INT32_MIN || p > INT32_MAX) {
      throw new InvalidJobOptionsError('priority must be an integer in the int32 range');
    }
    job.priority = p;
  }
  if (options.delay !== undefined && options.runAt !== undefined) {
    throw new InvalidJobOptionsError('give delay or runAt, not both');
  }
  if (options.delay !== undefined) {
    const d = options.delay;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > MAX_DELAY_MS) {
      throw new InvalidJobOptionsError(
        `delay must be a number of ms between 0 and ${MAX_DELAY_TEXT}; got ${shown(d)}`,
      );
    }
    job.runAt = new Date(now + Math.round(d));
  }
  if (options.runAt !== undefined) {
    const t = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new InvalidJobOptionsError(
        `runAt must be a valid Date or a timestamp in ms; got ${shown(options.runAt)}`,
      );
    }
    if (t > now + MAX_DELAY_MS) {
      const at = shown(options.runAt instanceof Date ? options.runAt : new Date(t));
      throw new InvalidJobOptionsError(
        `runAt ${at} is more than ${MAX_DELAY_TEXT} ahead; the latest allowed now is ${new Date(now + MAX_DELAY_MS).toISOString()}. ` +
          'A time that far out is usually a unit mistake (µs instead of ms)',
      );
    }
    job.runAt = new Date(Math.max(t, 0));
  }
  if (options.attempts !== undefined) {
    const a = options.attempts;
    if (!Number.isInteger(a) || a < 1 || a > 1_000_000) {
      throw new InvalidJobOptionsError('attempts must be an integer ≥ 1');
    }
    job.maxAttempts = a;
  }
  if (options.backoff !== undefined) job.backoff = validateBackoff(options.backoff);
  if (options.uniqueKey !== undefined) {
    const k = options.uniqueKey;
    if (typeof k !== 'string' || k.length === 0 || Buffer.byteLength(k, 'utf8') > 255) {
      throw new InvalidJobOptionsError('uniqueKey must be a non-empty string of at most 255 bytes');
    }
    job.uniqueKey = k;
  }
  return job;
}
