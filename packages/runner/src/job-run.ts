import type { AckBatcher, Backend, LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import { hasErrorCode } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import { JobReleasedError, JobTimeoutError } from './errors.js';
import type { LeaseLostDuring, RunnerEmitter } from './events.js';
import { asError } from './events.js';
import type { Executor } from './executor.js';
import type { RunnerHooks } from './hooks.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { decideFailure, toJobError } from './retry-policy.js';
import type { Slot } from './slot.js';

/** What a running job needs from its runner. */
export interface RunContext {
  backend: Backend;
  /** batches acks through the backend's `ackMany` where it has one */
  acks: AckBatcher;
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

/**
 * The life of one leased job. Two clocks run separately:
 * - the job's fate (`decide`): ack, retry/dead, drop on a lost lease, or release at shutdown —
 *   settled once, as soon as it is known (a timeout fails the job *now*, not when the handler
 *   finally gives up);
 * - the slot's occupancy (`run()` resolving): until the handler's code has actually stopped, so
 *   concurrency is never exceeded even by a handler that ignores its abort signal.
 */
export class JobRun {
  readonly startedAt = Date.now();
  /** resolves once the store knows the job's fate */
  readonly settled: Promise<void>;
  private resolveSettled!: () => void;
  private decided = false;
  private abortReason: Error | undefined;
  private abortExecution: ((reason: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: RunContext,
    readonly record: LeasedJobRecord,
    readonly job: LeasedJob<unknown>,
    readonly settings: QueueSettings,
    readonly slot: Slot,
    readonly group: string,
  ) {
    this.settled = new Promise((resolve) => {
      this.resolveSettled = resolve;
    });
  }

  get isDecided(): boolean {
    return this.decided;
  }

  /** Run the job; resolves when its slot may take the next one (the handler has stopped). Never rejects. */
  async run(executor: Executor): Promise<void> {
    const { keeper, emitter, hooks } = this.ctx;
    keeper.track(this.record, this.settings.leaseMs, this.record.lease.expiresAt, (err) => {
      // the handler's signal aborts with core's LeaseLostError: its work would be a duplicate now
      this.abort(err);
      void this.decide({ kind: 'lost', during: 'extend' });
    });
    if (this.settings.timeoutMs > 0) {
      this.timer = setTimeout(() => {
        const err = new JobTimeoutError(this.job.id, this.settings.timeoutMs);
        this.abort(err);
        void this.decide({ kind: 'failure', error: err });
      }, this.settings.timeoutMs);
    }
    const readyAt = Math.max(this.job.runAt.getTime(), this.job.createdAt.getTime());
    emitter.emit('job:start', {
      job: this.job,
      slot: this.slot.index,
      group: this.group,
      pickupMs: Math.max(0, this.startedAt - readyAt),
    });

    try {
      await hooks.beforeWork?.(this.job);
    } catch (err) {
      await this.decide({ kind: 'failure', error: asError(err) });
      return;
    }
    if (this.decided) return;

    let execution: Awaited<ReturnType<Executor['run']>>;
    try {
      execution = await executor.run(this.job, this.record, {
        extend: (ms) => keeper.extendNow(this.record, ms),
        log: (message, data) => {
          const payload: { job: LeasedJob<unknown>; message: string; data?: Record<string, unknown> } = {
            job: this.job,
            message,
          };
          if (data !== undefined) payload.data = data;
          emitter.emit('job:log', payload);
        },
      });
    } catch (err) {
      await this.decide({ kind: 'failure', error: asError(err) });
      return;
    }
    this.slot.pid = execution.pid;
    this.abortExecution = (reason) => execution.abort(reason);
    // decided (timed out, lease lost, released) while waiting for a worker: stop it at once
    if (this.abortReason) execution.abort(this.abortReason);

    const outcome = await execution.outcome;
    if (!this.decided) {
      try {
        await hooks.afterWork?.(this.job, outcome);
      } catch (err) {
        emitter.emit('error', { error: asError(err), context: 'afterWork hook', jobId: this.job.id });
      }
      void this.decide(
        outcome.ok ? { kind: 'success', result: outcome.result } : { kind: 'failure', error: outcome.error },
      );
    }
    // The slot is free once the handler's code has stopped; the ack or requeue settles in the
    // background (batched with others), so the next pop overlaps it instead of waiting a round
    // trip. `settled` still tracks it for shutdown.
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
    this.abortExecution?.(reason);
  }

  /** Settle the job's fate with the store, once. Later calls return the same promise. */
  decide(decision: Decision): Promise<void> {
    if (this.decided) return this.settled;
    this.decided = true;
    clearTimeout(this.timer);
    this.ctx.keeper.untrack(this.record);
    this.apply(decision)
      .catch((err: unknown) => {
        this.ctx.emitter.emit('error', { error: asError(err), context: 'settling job', jobId: this.job.id });
      })
      .finally(() => this.resolveSettled());
    return this.settled;
  }

  private async apply(decision: Decision): Promise<void> {
    const { acks, backend, emitter, hooks } = this.ctx;
    const durationMs = Date.now() - this.startedAt;
    const lost = (during: LeaseLostDuring) => emitter.emit('lease:lost', { job: this.job, during });
    switch (decision.kind) {
      case 'success': {
        try {
          await acks.ack(this.record);
        } catch (err) {
          // Never retry an ack: a lost lease means someone else owns the job now.
          if (hasErrorCode(err, 'LEASE_LOST')) return lost('ack');
          throw err;
        }
        emitter.emit('job:complete', { job: this.job, result: decision.result, durationMs });
        return;
      }
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
