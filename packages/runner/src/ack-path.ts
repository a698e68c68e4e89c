import type { AckAndPopResult, AckCallback, Backend, LeaseHandle, LeaseLostError } from '@ilkkun/core';
import { ackAndPop, ackMany, hasErrorCode } from '@ilkkun/core';
import { asError, type RunnerEmitter } from './events.js';
import { jitter } from './jitter.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** A finished job waiting for the store to confirm its ack. */
interface PendingAck {
  handle: LeaseHandle;
  done: AckCallback;
  /** arrival order: a flush sends only the acks that have seen a turn end since they came */
  seq: number;
}

/** Batches never exceed this (a Lua `unpack` and an SQL `IN (…)` both have limits). */
const MAX_BATCH = 500;
/** A failed ack round trip is sent again after a growing, jittered pause, at most this long. */
const MAX_RETRY_DELAY_MS = 2_000;

/**
 * The one owner of a finished job's ack, from "handler returned" to "store confirmed".
 *
 * - **The lease stays alive until the answer.** The lease keeper keeps renewing a job's lease
 *   while its ack waits (a batch in flight, a lock wait, a reconnect); only the store's answer
 *   ends the tracking. An ack that waits must never let the lease lapse, or the job runs twice.
 * - **One rule for carrying.** An ack waits until the end of the next event-loop turn. A slot
 *   group's pop that leaves before then takes it along (`backend.ackAndPop`: one round trip for
 *   the ack and the refill); otherwise it goes out with the others in one `ackMany` batch. Only
 *   one batch is in flight at a time; acks that arrive meanwhile ride in the next one.
 * - **A failed round trip is sent again**, not given up: the store said nothing definite (a
 *   connection cut, a lock-wait timeout), and acks are fenced by the lease token, so sending one
 *   again cannot complete a job that someone else now owns: the store answers LEASE_LOST then.
 *   Retries go on while the runner runs; `stop()` gives up on what is still unanswered after its
 *   grace period (the job then runs again when its lease ends: at least once, never lost).
 */
export class AckPath {
  /** acks not yet sent, in arrival order */
  private queued: PendingAck[] = [];
  /** the batch in flight, if any */
  private sending: Promise<void> | undefined;
  private flushScheduled = false;
  private seq = 0;
  private retryDelay = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly backend: Backend,
    private readonly keeper: LeaseKeeper,
    private readonly emitter: RunnerEmitter,
  ) {}

  /** pops can carry acks (the backend has `ackAndPop`) */
  get carries(): boolean {
    return typeof this.backend.ackAndPop === 'function';
  }

  /**
   * The job's handler succeeded: ack it. `done` is called once: with nothing when the store
   * confirmed, with a `LeaseLostError` when the lease was no longer this runner's, or with the
   * store's error when the runner gave up at stop.
   */
  complete(handle: LeaseHandle, done: AckCallback): void {
    this.queued.push({ handle, done, seq: ++this.seq });
    this.scheduleFlush();
  }

  /**
   * A pop is about to leave: the acks queued so far go with it. Empty when the backend cannot
   * carry acks in a pop, or a retry is pending (the pop must not wait on a store that just failed).
   */
  takeForPop(): PendingAck[] {
    if (!this.carries || this.retryTimer || this.queued.length === 0) return [];
    const taken = this.queued.length <= MAX_BATCH ? this.queued : this.queued.slice(0, MAX_BATCH);
    this.queued = taken === this.queued ? [] : this.queued.slice(MAX_BATCH);
    return taken;
  }

  /** Ack `carried` and pop in one round trip; every carried ack is answered or queued again. */
  async ackAndPop(
    carried: readonly PendingAck[],
    queues: readonly string[],
    options: { max: number; leaseMs: number },
  ): Promise<AckAndPopResult['jobs']> {
    let result: AckAndPopResult;
    try {
      result = await ackAndPop(
        this.backend,
        carried.map((a) => a.handle),
        queues,
        options,
      );
    } catch (err) {
      // the pool reports the failed pop; the acks it carried are sent again
      this.failed(carried, err, false);
      throw err;
    }
    this.retryDelay = 0;
    this.answer(carried, result.acked);
    return result.jobs;
  }

  /** Send everything queued now (the fetch loops stop; nothing will carry it). */
  flushNow(): void {
    this.send();
  }

  /**
   * Stop retrying: acks still unanswered are answered with `reason` (their jobs run again when
   * their leases end). A batch in flight still reports its own outcome.
   */
  giveUp(reason: Error): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const queued = this.queued;
    this.queued = [];
    for (const a of queued) this.settle(a, reason);
  }

  private scheduleFlush(): void {
    if (this.stopped) {
      this.send();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Two turns: a slot group woken by this job's freed slot sends its refill pop at the end of
    // the next turn (after letting other handlers of this turn finish too) and takes the ack
    // along; only an ack no pop took goes out on its own. Acks that arrive after the first turn
    // (a pipelined pop's jobs finishing) are not swept into this flush: they wait for a pop of
    // their own, or a busy pool would send every other cycle's acks in a round trip of their own.
    setImmediate(() => {
      const due = this.seq;
      setImmediate(() => {
        this.flushScheduled = false;
        this.send(due);
        if (this.queued.length > 0 && !this.sending && !this.retryTimer) this.scheduleFlush();
      });
    });
  }

  /** Send the oldest acks (those that arrived up to `due`, at most a batch) unless a batch is out. */
  private send(due = Number.POSITIVE_INFINITY): void {
    if (this.sending || this.retryTimer) return;
    let n = 0;
    while (n < this.queued.length && n < MAX_BATCH && this.queued[n]!.seq <= due) n++;
    if (n === 0) return;
    const batch = n === this.queued.length ? this.queued : this.queued.slice(0, n);
    this.queued = batch === this.queued ? [] : this.queued.slice(n);
    this.sending = ackMany(
      this.backend,
      batch.map((a) => a.handle),
    ).then(
      (acked) => {
        this.retryDelay = 0;
        this.answer(batch, acked);
      },
      (err: unknown) => this.failed(batch, err),
    );
    void this.sending.finally(() => {
      this.sending = undefined;
      // what queued up meanwhile gets its turn for a pop first, like any other ack
      if (this.stopped) this.send();
      else if (this.queued.length > 0) this.scheduleFlush();
    });
  }

  /** Entry i of `acked`: null = acked, else job i's LeaseLostError. */
  private answer(batch: readonly PendingAck[], acked: ReadonlyArray<LeaseLostError | null>): void {
    for (let i = 0; i < batch.length; i++) {
      const a = batch[i]!;
      if (i < acked.length) this.settle(a, acked[i] ?? undefined);
      // an answer missing for an ack is not a success: ask again
      else this.requeueForRetry([a]);
    }
  }

  /** The round trip failed: nothing definite is known, so the acks are sent again after a pause. */
  private failed(batch: readonly PendingAck[], err: unknown, report = true): void {
    if (this.stopped || hasErrorCode(err, 'LEASE_LOST')) {
      for (const a of batch) this.settle(a, err);
      return;
    }
    if (report) {
      this.emitter.emit('error', {
        error: asError(err),
        context: `acking ${batch.length} job(s); sending again (their leases are kept alive meanwhile)`,
      });
    }
    this.requeueForRetry(batch);
  }

  private requeueForRetry(batch: readonly PendingAck[]): void {
    if (this.stopped) {
      const err = new Error('the store gave no answer for this ack before the runner stopped');
      for (const a of batch) this.settle(a, err);
      return;
    }
    this.queued = [...batch, ...this.queued];
    if (this.retryTimer) return;
    this.retryDelay = Math.min(MAX_RETRY_DELAY_MS, Math.max(50, this.retryDelay * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.send();
    }, jitter(this.retryDelay));
  }

  private settle(a: PendingAck, outcome: unknown): void {
    // the store has answered: from here on the lease is not ours to keep
    this.keeper.untrack(a.handle);
    try {
      a.done(outcome);
    } catch (thrown) {
      // a listener that throws must not stall the acks behind it: its error surfaces on its own
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }
}
