import type { LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import { decodeJob, sleep, WakeSignal } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import { asError } from './events.js';
import type { Executor } from './executor.js';
import { jitter } from './jitter.js';
import { JobRun, type RunContext, type RunOwner } from './job-run.js';
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
/** pops a slot group may have out at once while a backlog lasts (see `SlotGroup`) */
const PIPELINE_DEPTH = 2;
/** a pipelined pop asks for at least this many jobs: below it, the second round trip costs more than the overlap gains */
const MIN_PIPELINED_BATCH = 8;

/**
 * A set of slots fed by one fetch loop popping all of the group's queues at once (seed 001's
 * slot manager, per worker class). The loop asks for exactly as many jobs as there are free
 * slots (counting those promised to pops still out), so a leased job never waits for a slot
 * while its lease runs down.
 *
 * Two things keep a busy pool's store and its own CPU working at the same time:
 * - **finish and fetch**: every pop takes the acks waiting in the runner's ack path along
 *   (`backend.ackAndPop`, one round trip for both); the ack path alone decides how long an ack
 *   waits for a pop (see `AckPath`);
 * - **pipelining**: where the backend's pops are independent round trips
 *   (`capabilities.concurrentPops`) and the group has 2 × 8 slots or more, a pop asks for half
 *   the slots, and while pops come back full (a backlog) a second one is already out while the
 *   first batch runs. Only one pop ever *waits* for work, so an idle group holds one blocking
 *   connection or poller, as before.
 */
export class SlotGroup implements RunOwner {
  readonly slots: Slot[];
  /** idle slots, last freed on top: taking one is O(1) whatever the concurrency */
  private readonly idle: Slot[];
  private readonly runs = new Set<JobRun>();
  private readonly fetchAbort = new AbortController();
  /** a slot was freed or a pop came back: the loop looks again */
  private readonly changed = new WakeSignal();
  private readonly depth: number;
  /** most jobs one pop asks for */
  private readonly batch: number;
  /** slots promised to pops that are out */
  private reserved = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** the last pop came back full: more is probably ready, so another pop may go out at once */
  private backlog = false;
  private errorDelay = 0;
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
    this.idle = [...this.slots].reverse();
    const c = settings.concurrency;
    this.depth =
      ctx.backend.capabilities.concurrentPops && c >= PIPELINE_DEPTH * MIN_PIPELINED_BATCH
        ? PIPELINE_DEPTH
        : 1;
    this.batch = Math.ceil(c / this.depth);
  }

  get busy(): number {
    return this.slots.length - this.idle.length;
  }

  start(): void {
    this.loop ??= this.fetchLoop();
  }

  private async fetchLoop(): Promise<void> {
    const signal = this.fetchAbort.signal;
    while (!this.stopping) {
      const free = this.idle.length - this.reserved;
      const out = this.inFlight.size;
      const mayLaunch = out < this.depth && (out === 0 || this.backlog);
      if (free <= 0 || !mayLaunch) {
        await this.changed.wait(SLOT_WAIT_MS, signal);
        // let the other handlers finishing in this turn free their slots too, so one pop
        // fetches for all of them instead of one round trip per freed slot
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const n = Math.min(free, this.batch);
      this.reserved += n;
      const fetch = this.fetch(n, signal).finally(() => {
        this.reserved -= n;
        this.inFlight.delete(fetch);
        this.changed.notify();
      });
      this.inFlight.add(fetch);
    }
  }

  /**
   * One pop for up to `n` slots, carrying the acks waiting in the ack path when there are any.
   * Only a pop with nothing else out waits for work; a pipelined one returns at once.
   */
  private async fetch(n: number, signal: AbortSignal): Promise<void> {
    const { backend, emitter, acks } = this.ctx;
    const carried = acks.takeForPop();
    const leaseMs = leaseLength(this.settings.leaseMs, backend);
    // a waiting pop still returns at once when jobs are ready; only a second, pipelined pop
    // (or an ack-and-pop, which never waits) must not block while the first batch runs
    const waiting = this.inFlight.size === 0 && carried.length === 0;
    let records: LeasedJobRecord[];
    try {
      if (carried.length > 0) {
        records = await acks.ackAndPop(carried, this.queues, { max: n, leaseMs });
      } else {
        records = await backend.pop(this.queues, {
          max: n,
          leaseMs,
          waitMs: waiting ? this.settings.waitMs : 0,
          signal,
        });
      }
      this.errorDelay = 0;
    } catch (err) {
      this.backlog = false;
      if (this.stopping) return;
      emitter.emit('error', { error: asError(err), context: `pop from ${this.queues.join(', ')}` });
      // a store that is down is retried with a growing, jittered pause, not hammered
      this.errorDelay = Math.min(MAX_ERROR_DELAY_MS, Math.max(100, this.errorDelay * 2));
      await sleep(jitter(this.errorDelay), signal);
      return;
    }
    if (this.stopping) {
      // popped while the stop began: these never started, so they go straight back
      await Promise.all(records.map((r) => this.releaseUnstarted(r)));
      return;
    }
    this.backlog = records.length >= n;
    for (const record of records) this.dispatch(record);
    if (records.length === 0 && waiting) {
      this.ctx.onEmptyPop();
      await sleep(jitter(this.settings.idleDelayMs), signal);
    }
  }

  private dispatch(record: LeasedJobRecord): void {
    const slot = this.idle.pop();
    if (!slot) {
      // cannot happen (pop asked for at most the free slots); never hold a lease without a slot
      void this.releaseUnstarted(record);
      return;
    }
    let job: LeasedJob<unknown>;
    try {
      job = decodeJob<unknown>(record);
    } catch (err) {
      this.idle.push(slot);
      void this.buryUndecodable(record, err);
      return;
    }
    slot.occupy(record.queue, record.id);
    this.ctx.onJobStart();
    const run = new JobRun(this.ctx, record, job, this.ctx.settingsFor(record.queue), slot, this.name, this);
    this.runs.add(run);
    run.run(this.executor).then(
      () => this.freeSlot(slot),
      (err: unknown) => {
        this.ctx.emitter.emit('error', { error: asError(err), context: 'running job', jobId: record.id });
        this.freeSlot(slot);
      },
    );
  }

  private freeSlot(slot: Slot): void {
    slot.free();
    this.idle.push(slot);
    this.changed.notify();
  }

  /** A run is forgotten only when its handler stopped AND the store knows its fate. */
  runFinished(run: JobRun): void {
    this.runs.delete(run);
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
    this.ctx.acks.flushNow();
    this.changed.notify();
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

  /** Resolves when the fetch loop and every pop it sent have ended (after `stopFetching`). */
  async loopEnded(): Promise<void> {
    await this.loop;
    await Promise.all([...this.inFlight]);
  }
}
