import type { LeasedJobRecord } from '@ilkkun/core';

/** A pop waiting for work. `accept` takes what it wants and returns the rest. */
export interface PollWaiter {
  readonly want: number;
  readonly deadline: number;
  readonly open: boolean;
  accept(jobs: LeasedJobRecord[]): LeasedJobRecord[];
  fail(error: unknown): void;
}

export interface LongPollerDeps {
  /** one long poll: receive, then admit (park, bury, lease) what came */
  poll(max: number, waitSeconds: number): Promise<LeasedJobRecord[]>;
  /** jobs no waiter took: held for the next pop or handed back without using an attempt */
  surplus(jobs: LeasedJobRecord[]): Promise<void>;
  /** messages per poll: 10 with receive-ahead, else what the waiters want */
  batch: number | undefined;
  /** errors of hand-backs (nobody awaits them) */
  onBackgroundError(error: unknown): void;
  /** true when the queue vanished: stop polling it rather than fail the waiters */
  isGone(error: unknown): boolean;
  longPollSeconds: number;
  /** concurrent polls at most (each brings up to 10 messages) */
  maxPolls: number;
}

/**
 * Long polling for one SQS queue (at one visibility timeout), shared by every pop waiting on it.
 *
 * A ReceiveMessage cannot be cancelled safely: once SQS has picked messages for the reply, dropping
 * the connection leaves them invisible until their timeout runs out, with the receive counted — a
 * job would lose an attempt and wait out a whole lease. So polls are never aborted. A pop that gives
 * up (deadline, abort signal, close) just stops waiting; a poll still open goes on and whatever it
 * brings goes to the next waiting pop, or is handed back at once (re-sent, attempt not counted).
 */
export class LongPoller {
  private readonly waiters = new Set<PollWaiter>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private gone = false;

  constructor(private readonly deps: LongPollerDeps) {}

  get busy(): boolean {
    return this.inFlight > 0 || this.waiters.size > 0;
  }

  add(waiter: PollWaiter): void {
    if (this.gone) return;
    this.waiters.add(waiter);
    this.pump();
  }

  remove(waiter: PollWaiter): void {
    this.waiters.delete(waiter);
  }

  /** Resolves once no poll is open (close() waits for this before closing the client). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private liveWaiters(): PollWaiter[] {
    const now = Date.now();
    for (const w of this.waiters) if (!w.open || w.deadline <= now) this.waiters.delete(w);
    return [...this.waiters];
  }

  private pump(): void {
    const waiters = this.liveWaiters();
    if (waiters.length === 0 || this.gone) return;
    const want = waiters.reduce((n, w) => n + w.want, 0);
    const desired = Math.min(this.deps.maxPolls, Math.ceil(want / 10));
    const latest = Math.max(...waiters.map((w) => w.deadline));
    const waitSeconds = Math.min(
      this.deps.longPollSeconds,
      Math.max(1, Math.ceil((latest - Date.now()) / 1000)),
    );
    while (this.inFlight < desired) {
      this.inFlight++;
      void this.runPoll(this.deps.batch ?? Math.min(10, want), waitSeconds);
    }
  }

  private async runPoll(max: number, waitSeconds: number): Promise<void> {
    try {
      const jobs = await this.deps.poll(max, waitSeconds);
      let rest = jobs;
      for (const waiter of this.liveWaiters()) {
        if (rest.length === 0) break;
        rest = waiter.accept(rest);
      }
      if (rest.length > 0)
        await this.deps.surplus(rest).catch((err: unknown) => this.deps.onBackgroundError(err));
    } catch (err) {
      if (this.deps.isGone(err)) this.gone = true;
      else for (const waiter of this.liveWaiters()) waiter.fail(err);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const idle = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of idle) resolve();
      }
      this.pump();
    }
  }
}
