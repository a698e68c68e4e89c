import type { LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import { decodeJob, sleep, WakeSignal } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import { asError } from './events.js';
import type { Executor } from './executor.js';
import { jitter } from './jitter.js';
import { JobRun, type RunContext } from './job-run.js';
import { leaseLength } from './lease-keeper.js';
import { toJobError } from './retry-policy.js';
import { Slot } from './slot.js';

export interface PoolContext extends RunContext {
  /** per-queue settings (timeout, backoff) for a popped job */
  settingsFor(queue: string): QueueSettings;
  onJobStart(): void;
  /** a pop came back empty: the runner checks whether the whole pool is idle */
  onEmptyPop(): void;
}

const MAX_ERROR_DELAY_MS = 5_000;
/** a bounded wait for a free slot; the loop re-checks on wake-up anyway */
const SLOT_WAIT_MS = 60_000;

/**
 * A set of slots fed by one fetch loop popping all of the group's queues at once (seed 001's
 * slot manager, per worker class). The loop asks for exactly as many jobs as there are free
 * slots, so a leased job never waits for a slot while its lease runs down.
 */
export class SlotGroup {
  readonly slots: Slot[];
  private readonly runs = new Set<JobRun>();
  private readonly fetchAbort = new AbortController();
  private readonly slotFreed = new WakeSignal();
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    readonly name: string,
    readonly queues: readonly string[],
    readonly settings: QueueSettings,
    readonly executor: Executor,
    private readonly ctx: PoolContext,
  ) {
    this.slots = Array.from({ length: settings.concurrency }, (_, i) => new Slot(i, name));
  }

  get busy(): number {
    let n = 0;
    for (const s of this.slots) if (s.state === 'busy') n++;
    return n;
  }

  start(): void {
    this.loop ??= this.fetchLoop();
  }

  private async fetchLoop(): Promise<void> {
    const { backend, emitter } = this.ctx;
    const signal = this.fetchAbort.signal;
    let errorDelay = 0;
    while (!this.stopping) {
      if (this.slots.length - this.busy === 0) {
        await this.slotFreed.wait(SLOT_WAIT_MS, signal);
        // let the other handlers finishing in this turn free their slots too, so one pop
        // fetches for all of them instead of one round trip per freed slot
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const free = this.slots.length - this.busy;
      let records: LeasedJobRecord[];
      try {
        records = await backend.pop(this.queues, {
          max: free,
          leaseMs: leaseLength(this.settings.leaseMs, backend),
          waitMs: this.settings.waitMs,
          signal,
        });
        errorDelay = 0;
      } catch (err) {
        if (this.stopping) break;
        emitter.emit('error', { error: asError(err), context: `pop from ${this.queues.join(', ')}` });
        // a store that is down is retried with a growing, jittered pause, not hammered
        errorDelay = Math.min(MAX_ERROR_DELAY_MS, Math.max(100, errorDelay * 2));
        await sleep(jitter(errorDelay), signal);
        continue;
      }
      if (this.stopping) {
        // popped while the stop began: these never started, so they go straight back
        await Promise.all(records.map((r) => this.releaseUnstarted(r)));
        break;
      }
      if (records.length === 0) {
        this.ctx.onEmptyPop();
        await sleep(jitter(this.settings.idleDelayMs), signal);
        continue;
      }
      for (const record of records) this.dispatch(record);
    }
  }

  private dispatch(record: LeasedJobRecord): void {
    const slot = this.slots.find((s) => s.state === 'idle');
    if (!slot) {
      // cannot happen (pop asked for at most the free slots); never hold a lease without a slot
      void this.releaseUnstarted(record);
      return;
    }
    let job: LeasedJob<unknown>;
    try {
      job = decodeJob<unknown>(record);
    } catch (err) {
      void this.buryUndecodable(record, err);
      return;
    }
    slot.occupy(record.queue, record.id);
    this.ctx.onJobStart();
    const run = new JobRun(this.ctx, record, job, this.ctx.settingsFor(record.queue), slot, this.name);
    this.runs.add(run);
    const handlerDone = run
      .run(this.executor)
      .catch((err: unknown) => {
        this.ctx.emitter.emit('error', { error: asError(err), context: 'running job', jobId: record.id });
      })
      .finally(() => {
        slot.free();
        this.slotFreed.notify();
      });
    // a run is forgotten only when its handler stopped AND the store knows its fate
    void Promise.all([handlerDone, run.settled]).finally(() => this.runs.delete(run));
  }

  /** A payload that is not JSON will never decode on a retry either: straight to dead. */
  private async buryUndecodable(record: LeasedJobRecord, err: unknown): Promise<void> {
    const error = toJobError(err, record.attemptsMade);
    const job: LeasedJob<unknown> = { ...record, payload: record.payload };
    try {
      await this.ctx.backend.requeue(record, { dead: true, error });
      this.ctx.emitter.emit('job:dead', { job, error, reason: 'undecodable' });
    } catch (e) {
      this.ctx.emitter.emit('error', {
        error: asError(e),
        context: 'burying undecodable job',
        jobId: record.id,
      });
    }
  }

  private async releaseUnstarted(record: LeasedJobRecord): Promise<void> {
    try {
      await this.ctx.backend.requeue(record, { release: true });
    } catch (err) {
      this.ctx.emitter.emit('error', {
        error: asError(err),
        context: 'releasing unstarted job',
        jobId: record.id,
      });
    }
  }

  /** Stop popping: a waiting pop is aborted and returns. */
  stopFetching(): void {
    this.stopping = true;
    this.fetchAbort.abort();
    this.slotFreed.notify();
  }

  /** Resolves when every job taken so far has its fate settled with the store. */
  async settled(): Promise<void> {
    await Promise.all([...this.runs].map((r) => r.settled));
  }

  /** Release every job whose fate is still open; returns how many were released. */
  async releaseAll(): Promise<number> {
    const open = [...this.runs].filter((r) => !r.isDecided);
    await Promise.all(open.map((r) => r.release()));
    return open.length;
  }

  /** Resolves when the fetch loop has ended (after `stopFetching`). */
  async loopEnded(): Promise<void> {
    await this.loop;
  }
}
