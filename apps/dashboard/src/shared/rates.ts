import type { JobStateName, Sample } from './api-types.js';

/**
 * Throughput derived from the sampler's history. Pure functions over samples, shared by the
 * server's tests and the browser's charts so both read the same numbers.
 *
 * Why two sources: a backend's counts show depth (waiting, dead, …) but most backends delete a
 * job when it completes, so completions are invisible in counts. Runner pools count them
 * (`/status` totals, `/metrics` per queue), so completions per second come from pools when any
 * are configured, and from the `completed` count only where the backend keeps completed jobs.
 */

export interface Point {
  /** epoch ms */
  t: number;
  v: number;
}

/** A counter that went down was reset (a pool restarted): count from zero, as Prometheus' rate() does. */
export function counterDelta(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/**
 * A record's own entry: queue names may be `constructor` or `__proto__` (the queue alphabet allows
 * them), which a plain `record[key]` would answer from Object.prototype.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function sumCounts(sample: Sample, state: JobStateName, queue: string | undefined): number {
  if (queue !== undefined) return own(sample.queues, queue)?.[state] ?? 0;
  let total = 0;
  for (const counts of Object.values(sample.queues)) total += counts[state];
  return total;
}

/** How many jobs were in `state` at each sample (one queue, or all summed). */
export function depthSeries(samples: readonly Sample[], state: JobStateName, queue?: string): Point[] {
  return samples.filter((s) => s.error === undefined).map((s) => ({ t: s.t, v: sumCounts(s, state, queue) }));
}

/**
 * Jobs per second entering `state`, from the growth of its count between samples. Drops (a
 * dead job retried, completed jobs trimmed) are not negative throughput: they count as 0.
 */
export function countRateSeries(samples: readonly Sample[], state: JobStateName, queue?: string): Point[] {
  const ok = samples.filter((s) => s.error === undefined);
  const out: Point[] = [];
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1]!;
    const b = ok[i]!;
    const seconds = (b.t - a.t) / 1000;
    if (seconds <= 0) continue;
    const grown = Math.max(0, sumCounts(b, state, queue) - sumCounts(a, state, queue));
    out.push({ t: b.t, v: grown / seconds });
  }
  return out;
}

/**
 * Jobs per second the configured pools reported as `field` (completed or failed), pool-wide or
 * for one queue. `undefined` when no pool ever answered: the chart then says so instead of
 * drawing a flat zero that would look like an idle system.
 */
export function poolRateSeries(
  samples: readonly Sample[],
  field: 'completed' | 'failed',
  queue?: string,
): Point[] | undefined {
  let seen = false;
  const out: Point[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const seconds = (b.t - a.t) / 1000;
    if (seconds <= 0) continue;
    let delta = 0;
    let any = false;
    for (const [id, now] of Object.entries(b.pools)) {
      const before = own(a.pools, id);
      if (!before?.ok || !now.ok) continue;
      if (queue === undefined) {
        delta += counterDelta(before[field], now[field]);
        any = true;
      } else {
        const q = own(now.byQueue, queue);
        if (!q) continue;
        delta += counterDelta(own(before.byQueue, queue)?.[field] ?? 0, q[field]);
        any = true;
      }
    }
    if (any) seen = true;
    out.push({ t: b.t, v: any ? delta / seconds : 0 });
  }
  return seen ? out : undefined;
}

/** Mean of the last `window` points: a steadier "now" figure than the last interval alone. */
export function recentRate(points: readonly Point[] | undefined, window = 5): number | undefined {
  if (!points || points.length === 0) return undefined;
  const tail = points.slice(-window);
  return tail.reduce((sum, p) => sum + p.v, 0) / tail.length;
}
