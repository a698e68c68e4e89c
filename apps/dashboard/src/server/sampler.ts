import { type Backend, redactUrl } from '@ilkkun/core';
import type { Counts, LiveEvent, Sample } from '../shared/api-types.js';
import type { PoolMonitor } from './pools.js';
import { RingBuffer } from './ring-buffer.js';

export interface SamplerOptions {
  intervalMs: number;
  historySize: number;
  maxQueues: number;
  /** false when the backend cannot count: samples then carry pools only */
  canCount: boolean;
  log: (line: string) => void;
}

type Listener = (event: LiveEvent) => void;

function hasJobs(counts: Counts): boolean {
  return counts.waiting + counts.delayed + counts.active + counts.completed + counts.dead > 0;
}

/**
 * Samples every queue's counts and every pool's totals on a fixed interval into a bounded ring,
 * so the charts have a history without the backend keeping one, and pushes each sample to the
 * live listeners. One tick at a time: a slow backend stretches the interval, never piles up calls.
 */
export class Sampler {
  private readonly ring: RingBuffer<Sample>;
  private readonly listeners = new Set<Listener>();
  /** queue → last time it held jobs; an emptied queue stays on the charts while it is in the window */
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly backend: Backend,
    private readonly pools: PoolMonitor,
    private readonly options: SamplerOptions,
  ) {
    this.ring = new RingBuffer<Sample>(options.historySize);
  }

  /** Take the first sample, then keep sampling until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
  }

  history(): Sample[] {
    return this.ring.toArray();
  }

  onSample(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sample now (after a write action, so the page shows its effect at once). A call during a
   * tick resolves after a further tick that started after the call; calls meanwhile share it.
   */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.next ??= this.running.then(() => {
        this.next = undefined;
        return this.refresh();
      });
      return this.next;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.tick()
      .catch((err: unknown) =>
        this.options.log(`sampling failed: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), this.options.intervalMs);
    // the HTTP server keeps the process alive, not the sampler
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const [queues, pools] = await Promise.all([this.sampleQueues(), this.pools.poll()]);
    const sample: Sample = { t: Date.now(), queues: queues.counts, pools: pools.samples };
    if (queues.error !== undefined) sample.error = queues.error;
    this.ring.push(sample);
    const event: LiveEvent = { sample, pools: pools.views };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener is an SSE stream; one that broke is removed by its own close handler
      }
    }
  }

  private async sampleQueues(): Promise<{ counts: Record<string, Counts>; error?: string }> {
    const inspector = this.backend.inspector;
    if (!this.options.canCount || !inspector) return { counts: {} };
    try {
      const now = Date.now();
      const oldest = this.ring.toArray()[0]?.t ?? now;
      const names = new Set((await inspector.queues()).slice(0, this.options.maxQueues));
      for (const [name, seen] of this.lastSeen) {
        if (seen < oldest) this.lastSeen.delete(name);
        else if (names.size < this.options.maxQueues) names.add(name);
      }
      const entries: Array<[string, Counts]> = [];
      for (const name of [...names].sort()) {
        const counts = await inspector.counts(name);
        if (hasJobs(counts)) this.lastSeen.set(name, now);
        entries.push([name, counts]);
      }
      return { counts: Object.fromEntries(entries) };
    } catch (err) {
      return { counts: {}, error: redactUrl(err instanceof Error ? err.message : String(err)) };
    }
  }
}
