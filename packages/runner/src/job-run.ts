import type { Backend, LeasedJob, LeasedJobRecord, LeaseLostError } from '@ilkkun/core';
import { hasErrorCode } from '@ilkkun/core';
import type { AckPath } from './ack-path.js';
import type { QueueSettings } from './config.js';
import { JobReleasedError, JobTimeoutError } from './errors.js';
import type { LeaseLostDuring, RunnerEmitter } from './events.js';
import { asError } from './events.js';
import type { ExecHooks, Execution, Executor } from './executor.js';
import type { RunnerHooks } from './hooks.js';
import type { LeaseKeeper, LeaseWatcher } from './lease-keeper.js';
import { decideFailure, toJobError } from './retry-policy.js';
import type { Slot } from './slot.js';

/** What a running job needs from its runner. */
export interface RunContext {
  backend: Backend;
  /** the ack's one owner until the store confirms it: batches, carries, retries, keeps the lease */
  acks: AckPath;
  emitter: RunnerEmitter;
  keeper: LeaseKeeper;
  hooks: RunnerHooks;
}

/** The one thing that happens to a job's lease: exactly one of these, exactly once. */
export type Decision =
  | { kind: 'success'; result: unknown }
  | { kind: 'failure'; error: Error }
  | { kind: 'lost'; during: LeaseLostDuring }
  | { kind: 'release' };

/** Told when a run is completely over: its handler stopped and the store knows its fate. */
export interface RunOwner {
  runFinished(run: JobRun): void;
}

/**
 * The life of one leased job. Two clocks run separately:
 * - the job's fate (`decide`): ack, retry/dead, drop on a lost lease, or release at shutdown —
 *   settled once, as soon as it is known (a timeout fails the job *now*, not when the handler
 *   finally gives up);
 * - the slot's occupancy (`run()` resolving): until the handler's code has actually stopped, so
 *   concurrency is never exceeded even by a handler that ignores its abort signal.
 *
 * This runs for every job, so the common path allocates little: the run is its own lease
 * watcher and its handler's `extend`/`log` hooks, and promises for `settled` are only made for
 * whoever asks (shutdown).
 */
export class JobRun implements LeaseWatcher, ExecHooks {
  readonly startedAt = Date.now();
  private decided = false;
  private isSettled = false;
  private handlerStopped = false;
  private settledPromise: Promise<void> | undefined;
  private resolveSettled: (() => void) | undefined;
  private abortReason: Error | undefined;
  private abortExecution: Execution | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: RunContext,
    readonly record: LeasedJobRecord,
    readonly job: LeasedJob<unknown>,
    readonly settings: QueueSettings,
    readonly slot: Slot,
    readonly group: string,
    private readonly owner?: RunOwner,
  ) {}

  get isDecided(): boolean {
    return this.decided;
  }

  /** resolves once the store knows the job's fate */
  get settled(): Promise<void> {
    if (this.isSettled) return Promise.resolve();
    this.settledPromise ??= new Promise((resolve) => {
      this.resolveSettled = resolve;
    });
    return this.settledPromise;
  }

  /** Run the job; resolves when its slot may take the next one (the handler has stopped). Never rejects. */
  async run(executor: Executor): Promise<void> {
    try {
      await this.execute(executor);
    } finally {
      this.handlerStopped = true;
      if (this.isSettled) this.owner?.runFinished(this);
    }
  }

  private async execute(executor: Executor): Promise<void> {
    const { keeper, emitter, hooks } = this.ctx;
    keeper.track(this.record, this.settings.leaseMs, this.record.lease.expiresAt, this);
    if (this.settings.timeoutMs > 0) {
      this.timer = setTimeout(() => {
        const err = new JobTimeoutError(this.job.id, this.settings.timeoutMs);
        this.abort(err);
        this.settle({ kind: 'failure', error: err });
      }, this.settings.timeoutMs);
    }
    const readyAt = Math.max(this.job.runAt.getTime(), this.job.createdAt.getTime());
    emitter.emit('job:start', {
      job: this.job,
      slot: this.slot.index,
      group: this.group,
      pickupMs: Math.max(0, this.startedAt - readyAt),
    });

    if (hooks.beforeWork) {
      try {
        await hooks.beforeWork(this.job);
      } catch (err) {
        await this.decide({ kind: 'failure', error: asError(err) });
        return;
      }
      if (this.decided) return;
    }

    let execution: Execution;
    try {
      const started = executor.run(this.job, this.record, this);
      execution = started instanceof Promise ? await started : started;
    } catch (err) {
      await this.decide({ kind: 'failure', error: asError(err) });
      return;
    }
    this.slot.pid = execution.pid;
    this.abortExecution = execution;
    // decided (timed out, lease lost, released) while waiting for a worker: stop it at once
    if (this.abortReason) execution.abort(this.abortReason);

    const outcome = await execution.outcome;
    if (!this.decided) {
      if (hooks.afterWork) {
        try {
          await hooks.afterWork(this.job, outcome);
        } catch (err) {
          emitter.emit('error', { error: asError(err), context: 'afterWork hook', jobId: this.job.id });
        }
      }
      this.settle(
        outcome.ok ? { kind: 'success', result: outcome.result } : { kind: 'failure', error: outcome.error },
      );
    }
    // The slot is free once the handler's code has stopped; the ack or requeue settles in the
    // background (batched with others), so the next pop overlaps it instead of waiting a round
    // trip. `settled` still tracks it for shutdown.
  }

  /** The heartbeat found the lease gone: the handler's signal aborts with core's LeaseLostError. */
  leaseLost(err: LeaseLostError): void {
    this.abort(err);
    this.settle({ kind: 'lost', during: 'extend' });
  }

  /** `ctx.extend(ms)` of the handler */
  extend(ms: number): Promise<Date> {
    return this.ctx.keeper.extendNow(this.record, ms);
  }

  /** `ctx.log(...)` of the handler */
  log(message: string, data?: Record<string, unknown>): void {
    const payload: { job: LeasedJob<unknown>; message: string; data?: Record<string, unknown> } = {
      job: this.job,
      message,
    };
    if (data !== undefined) payload.data = data;
    this.ctx.emitter.emit('job:log', payload);
  }

  /** Graceful shutdown: hand the job back unattempted, unless its fate is already decided. */
  release(): Promise<void> {
    if (this.decided) return this.settled;
    this.abort(new JobReleasedError(this.job.id));
    return this.decide({ kind: 'release' });
  }

  private abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.abortExecution?.abort(reason);
  }

  /** Settle the job's fate with the store, once; resolves when the store has it. */
  decide(decision: Decision): Promise<void> {
    this.settle(decision);
    return this.settled;
  }

  /** `decide` without the promise (the per-job path): the first decision wins, later ones are ignored. */
  private settle(decision: Decision): void {
    if (this.decided) return;
    this.decided = true;
    clearTimeout(this.timer);
    if (decision.kind === 'success') {
      // the hot path: a callback from the ack path, no promise per job. The lease keeper goes on
      // renewing the lease until the store has answered (the ack path untracks it then).
      const durationMs = Date.now() - this.startedAt;
      this.ctx.acks.complete(this.record, (err) => {
        if (err === undefined) {
          this.ctx.emitter.emit('job:complete', { job: this.job, result: decision.result, durationMs });
        } else if (hasErrorCode(err, 'LEASE_LOST')) {
          // Never retry an ack: a lost lease means someone else owns the job now.
          this.ctx.emitter.emit('lease:lost', { job: this.job, during: 'ack' });
        } else {
          this.reportSettleError(err);
        }
        this.markSettled();
      });
      return;
    }
    // a requeue that waits on the store keeps the lease renewed too, until its answer
    if (decision.kind === 'lost') this.ctx.keeper.untrack(this.record);
    this.apply(decision)
      .catch((err: unknown) => this.reportSettleError(err))
      .finally(() => {
        this.ctx.keeper.untrack(this.record);
        this.markSettled();
      });
  }

  private reportSettleError(err: unknown): void {
    this.ctx.emitter.emit('error', { error: asError(err), context: 'settling job', jobId: this.job.id });
  }

  private markSettled(): void {
    this.isSettled = true;
    this.resolveSettled?.();
    if (this.handlerStopped) this.owner?.runFinished(this);
  }

  /** Every fate but success (which `settle` hands to the ack sink): a requeue, a drop or a release. */
  private async apply(decision: Exclude<Decision, { kind: 'success' }>): Promise<void> {
    const { backend, emitter, hooks } = this.ctx;
    const durationMs = Date.now() - this.startedAt;
    const lost = (during: LeaseLostDuring) => emitter.emit('lease:lost', { job: this.job, during });
    switch (decision.kind) {
      case 'failure': {
        const error = toJobError(decision.error, this.job.attemptsMade);
        const next = decideFailure(this.record, decision.error, this.settings.backoff);
        emitter.emit('job:fail', { job: this.job, error, durationMs, willRetry: next.kind === 'retry' });
        try {
          await backend.requeue(
            this.record,
            next.kind === 'retry' ? { runAt: next.runAt, error } : { dead: true, error },
          );
        } catch (err) {
          if (hasErrorCode(err, 'LEASE_LOST')) return lost('requeue');
          throw err;
        }
        if (next.kind === 'retry') {
          emitter.emit('job:retry', { job: this.job, error, runAt: next.runAt, delayMs: next.delayMs });
        } else {
          emitter.emit('job:dead', { job: this.job, error, reason: next.reason });
        }
        try {
          await hooks.onFailure?.(
            this.job,
            error,
            next.kind === 'retry' ? { willRetry: true, runAt: next.runAt } : { willRetry: false },
          );
        } catch (err) {
          emitter.emit('error', { error: asError(err), context: 'onFailure hook', jobId: this.job.id });
        }
        return;
      }
      case 'lost':
        return lost(decision.during);
      case 'release': {
        try {
          await backend.requeue(this.record, { release: true });
        } catch (err) {
          if (hasErrorCode(err, 'LEASE_LOST')) return lost('release');
          throw err;
        }
        emitter.emit('job:release', { job: this.job });
        return;
      }
    }
  }
}
