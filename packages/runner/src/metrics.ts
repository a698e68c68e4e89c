import type { Backend } from '@ilkkun/core';
import { JOB_STATES } from '@ilkkun/core';
import { Gauge, Registry } from 'prom-client';
import type { RunnerEmitter } from './events.js';
import { counterText, histogramText, QueueTally } from './job-tally.js';

export interface MetricsSources {
  emitter: RunnerEmitter;
  queues: readonly string[];
  busy(): number;
  size(): number;
  backend(): Backend | undefined;
}

/** A /metrics scrape must not hang on a slow store: queue depth is skipped after this. */
const DEPTH_TIMEOUT_MS = 2_000;

/**
 * Prometheus metrics in a registry of the runner's own (not prom-client's global one), so two
 * runners in one process, or an application's own metrics, never collide.
 */
export class RunnerMetrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, QueueTally>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    for (const queue of sources.queues) this.tallyOf(queue);
    new Gauge({
      name: 'ilkkun_busy_slots',
      help: 'Slots running a job now',
      registers,
      collect() {
        this.set(sources.busy());
      },
    });
    new Gauge({
      name: 'ilkkun_slots',
      help: 'Slots in the pool (concurrency summed over slot groups)',
      registers,
      collect() {
        this.set(sources.size());
      },
    });
    new Gauge({
      name: 'ilkkun_queue_depth',
      help: 'Jobs per queue and state, from the backend inspector (absent when the backend has none)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        const backend = sources.backend();
        const inspector = backend?.inspector;
        if (!backend || !inspector || !backend.capabilities.inspect.counts) return;
        const timeout = new Promise<undefined>((resolve) =>
          setTimeout(() => resolve(undefined), DEPTH_TIMEOUT_MS).unref(),
        );
        await Promise.all(
          sources.queues.map(async (queue) => {
            try {
              const counts = await Promise.race([inspector.counts(queue), timeout]);
              if (!counts) return;
              for (const state of JOB_STATES) this.set({ queue, state }, counts[state]);
            } catch {
              // a depth we cannot read is left out rather than failing the whole scrape
            }
          }),
        );
      },
    });

    const { emitter } = sources;
    emitter.on('job:start', ({ job, pickupMs }) => this.tallyOf(job.queue).pickup.observe(pickupMs / 1000));
    emitter.on('job:complete', ({ job, durationMs }) => {
      const t = this.tallyOf(job.queue);
      t.completed++;
      t.completedDuration.observe(durationMs / 1000);
    });
    emitter.on('job:fail', ({ job, durationMs }) => {
      const t = this.tallyOf(job.queue);
      t.failed++;
      t.failedDuration.observe(durationMs / 1000);
    });
    emitter.on('job:retry', ({ job }) => this.tallyOf(job.queue).retried++);
    emitter.on('job:dead', ({ job }) => this.tallyOf(job.queue).dead++);
    emitter.on('lease:lost', ({ job }) => this.tallyOf(job.queue).leaseLost++);
  }

  private tallyOf(queue: string): QueueTally {
    let t = this.tallies.get(queue);
    if (!t) {
      t = new QueueTally();
      this.tallies.set(queue, t);
    }
    return t;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The gauges (prom-client, read at scrape time) followed by the per-job families from the tallies. */
  async text(): Promise<string> {
    const gauges = await this.registry.metrics();
    const tallies = [...this.tallies];
    const q = (queue: string) => [['queue', queue] as const];
    const counter = (name: string, help: string, pick: (t: QueueTally) => number) =>
      counterText(
        name,
        help,
        tallies.map(([queue, t]) => [q(queue), pick(t)]),
      );
    const families = [
      counter(
        'ilkkun_jobs_completed_total',
        'Jobs whose handler succeeded and that were acked',
        (t) => t.completed,
      ),
      counter('ilkkun_jobs_failed_total', 'Failed attempts (each is then retried or dead)', (t) => t.failed),
      counter('ilkkun_jobs_retried_total', 'Failed attempts scheduled for another try', (t) => t.retried),
      counter('ilkkun_jobs_dead_total', 'Jobs moved to dead', (t) => t.dead),
      counter('ilkkun_leases_lost_total', 'Jobs dropped because their lease was lost', (t) => t.leaseLost),
      histogramText(
        'ilkkun_job_duration_seconds',
        'Time from job start to its outcome',
        tallies.flatMap(([queue, t]) => [
          [[...q(queue), ['outcome', 'completed'] as const], t.completedDuration] as const,
          [[...q(queue), ['outcome', 'failed'] as const], t.failedDuration] as const,
        ]),
      ),
      histogramText(
        'ilkkun_job_pickup_latency_seconds',
        'Job start time minus max(runAt, createdAt): how long a ready job waited for a worker',
        tallies.map(([queue, t]) => [q(queue), t.pickup] as const),
      ),
    ];
    return `${gauges.trimEnd()}\n\n${families.join('\n\n')}\n`;
  }
}
