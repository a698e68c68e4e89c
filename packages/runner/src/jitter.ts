/** `ms` randomised by ±`spread` (0..1), so processes started together drift apart. */
export function jitter(ms: number, spread = 0.5): number {
  if (ms <= 0) return 0;
  return Math.round(ms * (1 - spread + 2 * spread * Math.random()));
}
