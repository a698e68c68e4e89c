/**
 * Delays on SQS. A message can be hidden at send time for at most 15 minutes (`DelaySeconds`
 * 0–900, whole seconds) and a received one for at most 12 hours (`VisibilityTimeout`).
 *
 * A job due later than the per-message limit is sent with the longest delay and carries its real
 * `runAt`; a pop that receives it early sends it again with the remaining delay (and deletes the
 * copy it received) instead of handing it out — so any delay works, at one receive + send + delete
 * per 15 minutes of waiting, and each hop is a fresh message (SQS's retention period starts again).
 *
 * Why hops re-send rather than stretch the visibility timeout (which would need one call instead
 * of two): every receive raises `ApproximateReceiveCount`, which this backend reads to tell a
 * crashed worker's expired lease from a clean hand-back. A parked message would look like a job
 * whose lease expired once per hop. A re-sent message starts at 0.
 */

/** SQS's own ceiling for `DelaySeconds`. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** SQS's own ceiling for a visibility timeout (lease). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * `DelaySeconds` for a message due at `runAt`: rounded up (a job never runs early; SQS counts
 * whole seconds) and capped at `maxDelaySeconds` (900 on SQS; lower in tests).
 */
export function delaySecondsFor(runAtMs: number, nowMs: number, maxDelaySeconds: number): number {
  const ms = runAtMs - nowMs;
  if (ms <= 0) return 0;
  return Math.min(maxDelaySeconds, Math.ceil(ms / 1000));
}

/**
 * Whether a received message may be handed out. `toleranceMs` absorbs the rounding of
 * `DelaySeconds` (never early) and small clock differences between the producer's host and ours:
 * without it a job due 30 ms from now would be parked for another whole second.
 */
export function isDue(runAtMs: number, nowMs: number, toleranceMs: number): boolean {
  return runAtMs <= nowMs + toleranceMs;
}

/** Visibility timeout (whole seconds, 1 s – 12 h) that covers a lease of `leaseMs`. */
export function visibilitySecondsFor(leaseMs: number): number {
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(leaseMs / 1000)));
}
