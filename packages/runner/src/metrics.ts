import type { Backend } from '@ilkkun/core';
import { JOB_STATES } from '@ilkkun/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunnerEmitter } from './events.js';

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

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const completed = new Counter({
      name: 'ilkkun_jobs_completed_total',
      help: 'Jobs whose handler succeeded and that were acked',
      labelNames: ['queue'],
      registers,
    });
    const failed = new Counter({
      name: 'ilkkun_jobs_failed_total',
      help: 'Failed attempts (each is then retried or dead)',
      labelNames: ['queue'],
      registers,
    });
    const retried = new Counter({
      name: 'ilkkun_jobs_retried_total',
      help: 'Failed attempts scheduled for another try',
      labelNames: ['queue'],
      registers,
    });
    const dead = new Counter({
      name: 'ilkkun_jobs_dead_total',
      help: 'Jobs moved to dead',
      labelNames: ['queue'],
      registers,
    });
    const leaseLost = new Counter({
      name: 'ilkkun_leases_lost_total',
      help: 'Jobs dropped because their lease was lost',
      labelNames: ['queue'],
      registers,
    });
    const duration = new Histogram({
      name: 'ilkkun_job_duration_seconds',
      help: 'Time from job start to its outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    const pickup = new Histogram({
      name: 'ilkkun_job_pickup_latency_seconds',
      help: 'Job start time minus max(runAt, createdAt): how long a ready job waited for a worker',
      labelNames: ['queue'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
      registers,
    });
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
    emitter.on('job:start', ({ job, pickupMs }) => pickup.observe({ queue: job.queue }, pickupMs / 1000));
    emitter.on('job:complete', ({ job, durationMs }) => {
      completed.inc({ queue: job.queue });
      duration.observe({ queue: job.queue, outcome: 'completed' }, durationMs / 1000);
    });
    emitter.on('job:fail', ({ job, durationMs }) => {
      failed.inc({ queue: job.queue });
      duration.observe({ queue: job.queue, outcome: 'failed' }, durationMs / 1000);
    });
    emitter.on('job:retry', ({ job }) => retried.inc({ queue: job.queue }));
    emitter.on('job:dead', ({ job }) => dead.inc({ queue: job.queue }));
    emitter.on('lease:lost', ({ job }) => leaseLost.inc({ queue: job.queue }));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
