import type { PoolQueueTotals } from '../shared/api-types.js';

/**
 * The per-queue job counters of a runner's `/metrics` (Prometheus text format): the only place a
 * pool says how many jobs of *each queue* it completed, which is what per-queue throughput needs
 * on backends that delete completed jobs. Reads just these three families; everything else in
 * the exposition is skipped.
 */
const FAMILIES: Readonly<Record<string, keyof PoolQueueTotals>> = {
  ilkkun_jobs_completed_total: 'completed',
  ilkkun_jobs_failed_total: 'failed',
  ilkkun_jobs_dead_total: 'dead',
};
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const QUEUE_LABEL = /(?:^|,)\s*queue="((?:[^"\\]|\\.)*)"/;
const MAX_QUEUES = 10_000;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function parseQueueCounters(text: string): Record<string, PoolQueueTotals> {
  const out = new Map<string, PoolQueueTotals>();
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const field = FAMILIES[match[1]!];
    if (!field) continue;
    const queue = QUEUE_LABEL.exec(match[2]!)?.[1];
    const value = Number(match[3]);
    if (queue === undefined || !Number.isFinite(value)) continue;
    const name = unescapeLabel(queue);
    let totals = out.get(name);
    if (!totals) {
      if (out.size >= MAX_QUEUES) continue;
      totals = { completed: 0, failed: 0, dead: 0 };
      out.set(name, totals);
    }
    // other labels (none today) would split a queue's count: they add up
    totals[field] += value;
  }
  return Object.fromEntries(out);
}
