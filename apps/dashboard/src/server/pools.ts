import type { PoolSample, PoolView } from '../shared/api-types.js';
import { describeFetchError, fetchText } from './fetch-bounded.js';
import type { PoolTarget } from './options.js';
import { parsePoolStatus } from './pool-status.js';
import { parseQueueCounters } from './prometheus.js';

const FETCH_TIMEOUT_MS = 2_000;
const MAX_STATUS_BYTES = 2 * 1024 * 1024;
const MAX_METRICS_BYTES = 4 * 1024 * 1024;

export interface PoolPoll {
  views: PoolView[];
  samples: Record<string, PoolSample>;
}

/**
 * Reads the configured runners' status servers, server-side: the page itself talks only to the
 * dashboard (its CSP allows no other origin), and the runners need no CORS.
 */
export class PoolMonitor {
  private latestViews: PoolView[];

  constructor(private readonly targets: readonly PoolTarget[]) {
    this.latestViews = targets.map((t) => ({ id: t.id, url: t.display, ok: false, fetchedAt: null }));
  }

  get size(): number {
    return this.targets.length;
  }

  /** The views of the last poll (before the first: every pool "not fetched yet"). */
  latest(): PoolView[] {
    return this.latestViews;
  }

  async poll(): Promise<PoolPoll> {
    const results = await Promise.all(this.targets.map((t) => this.pollOne(t)));
    this.latestViews = results.map((r) => r.view);
    return {
      views: this.latestViews,
      samples: Object.fromEntries(results.map((r, i) => [this.targets[i]!.id, r.sample])),
    };
  }

  private async pollOne(target: PoolTarget): Promise<{ view: PoolView; sample: PoolSample }> {
    const fetchedAt = new Date().toISOString();
    const down: PoolSample = { ok: false, completed: 0, failed: 0, byQueue: {} };
    const base = { id: target.id, url: target.display, fetchedAt };
    let statusText: string;
    try {
      statusText = await fetchText(`${target.base}/status`, FETCH_TIMEOUT_MS, MAX_STATUS_BYTES);
    } catch (err) {
      return { view: { ...base, ok: false, error: describeFetchError(err) }, sample: down };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(statusText);
    } catch {
      return { view: { ...base, ok: false, error: '/status did not answer JSON' }, sample: down };
    }
    const status = parsePoolStatus(parsed);
    if (!status) {
      return { view: { ...base, ok: false, error: '/status is not an ilkkun runner status' }, sample: down };
    }
    // Per-queue counters are a bonus: a pool without /metrics still shows its scoreboard.
    let byQueue: PoolSample['byQueue'] = {};
    try {
      byQueue = parseQueueCounters(
        await fetchText(`${target.base}/metrics`, FETCH_TIMEOUT_MS, MAX_METRICS_BYTES),
      );
    } catch {
      byQueue = {};
    }
    return {
      view: { ...base, ok: true, status },
      sample: {
        ok: true,
        completed: status.totals['completed'] ?? 0,
        failed: status.totals['failed'] ?? 0,
        byQueue,
      },
    };
  }
}
