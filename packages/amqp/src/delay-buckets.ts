/**
 * Delays without the delayed-message plugin: a job waits in a TTL "wait" queue with no
 * consumers and is dead-lettered back to its work queue when the TTL runs out. A classic queue
 * only expires the message at its head, so every wait queue holds ONE delay length (its
 * `x-message-ttl`), and delays are bucketed into powers of two so each queue has at most
 * `BUCKETS.length` wait queues however many different delays its jobs ask for.
 *
 * A delay rarely is a power of two. `planHop` never rounds it down (a job must never run early):
 * it either rounds UP to the next bucket when that makes it late by at most
 * `max(MIN_BUCKET_MS, remaining / 8)`, or takes the largest bucket BELOW the remaining delay.
 * In the second case the job comes back to the work queue early; whoever pops it sees its
 * `runAt` is still ahead and sends it on another hop for the rest. A 1 s delay is one hop
 * (1024 ms), 600 ms three (512 + 64 + 32), an hour about six.
 */

export const MIN_BUCKET_EXP = 4; // 16 ms: below this the broker's own timer resolution dominates
export const MAX_BUCKET_EXP = 31; // ~24.9 days; longer delays simply take several of these hops
export const MIN_BUCKET_MS = 2 ** MIN_BUCKET_EXP;
export const MAX_BUCKET_MS = 2 ** MAX_BUCKET_EXP;

/** Every wait-queue TTL this backend uses, shortest first. */
export const BUCKETS: readonly number[] = Array.from(
  { length: MAX_BUCKET_EXP - MIN_BUCKET_EXP + 1 },
  (_, i) => 2 ** (MIN_BUCKET_EXP + i),
);

/** The wait queue (TTL in ms) for the next hop of a job due in `remainingMs` (> 0). */
export function planHop(remainingMs: number): number {
  if (remainingMs <= MIN_BUCKET_MS) return MIN_BUCKET_MS;
  if (remainingMs > MAX_BUCKET_MS) return MAX_BUCKET_MS;
  const up = 2 ** Math.ceil(Math.log2(remainingMs));
  if (up - remainingMs <= Math.max(MIN_BUCKET_MS, remainingMs / 8)) return up;
  // `up / 2` is below the remaining delay (up is the smallest power of two ≥ it): never early.
  return up / 2;
}

/** How late a job due in `remainingMs` may run at most (excluding dispatch latency). */
export function maxLatenessMs(remainingMs: number): number {
  return Math.max(MIN_BUCKET_MS, remainingMs / 8);
}
