import type { LeasedJobRecord } from '@ilkkun/core';

interface Waiter {
  max: number;
  leaseMs: number;
  got: LeasedJobRecord[];
  done: boolean;
  flushScheduled: boolean;
  aborted: boolean;
  resolve(jobs: LeasedJobRecord[]): void;
  reject(err: unknown): void;
  cleanup(): void;
}

/**
 * Pops waiting for deliveries, oldest first (so start order follows the queue). A waiter ends
 * when it has `max` jobs, at its deadline, when its signal aborts, or — once it has at least
 * one job — on the next turn of the event loop: deliveries of one burst arrive together and are
 * taken along, but a pop never sits on a job it could already return.
 */
export class WaitList {
  private readonly list: Waiter[] = [];

  constructor(
    /** a waiter ended; `aborted` when its signal ended it (a caller stopping) */
    private readonly onEnd: (aborted: boolean) => void,
  ) {}

  get size(): number {
    return this.list.length;
  }

  /** Jobs the waiters still want, together. */
  wanted(): number {
    let n = 0;
    for (const w of this.list) n += w.max - w.got.length;
    return n;
  }

  wait(max: number, leaseMs: number, waitMs: number, signal?: AbortSignal): Promise<LeasedJobRecord[]> {
    return new Promise<LeasedJobRecord[]>((resolve, reject) => {
      const onAbort = () => {
        waiter.aborted = true;
        this.finish(waiter);
      };
      const timer = setTimeout(() => this.finish(waiter), waitMs);
      const waiter: Waiter = {
        max,
        leaseMs,
        got: [],
        done: false,
        flushScheduled: false,
        aborted: false,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.list.push(waiter);
    });
  }

  /** Give one job to the oldest waiter; false when nobody waits. `lease` makes it, for that waiter's lease length. */
  give(lease: (leaseMs: number) => LeasedJobRecord): boolean {
    const waiter = this.list[0];
    if (!waiter) return false;
    waiter.got.push(lease(waiter.leaseMs));
    if (waiter.got.length >= waiter.max) {
      this.finish(waiter);
    } else if (!waiter.flushScheduled) {
      waiter.flushScheduled = true;
      setImmediate(() => this.finish(waiter));
    }
    return true;
  }

  /** End every waiter with what it has. */
  endAll(): void {
    for (const w of [...this.list]) this.finish(w);
  }

  /** End every waiter with an error (a setting the broker refused). */
  failAll(err: unknown): void {
    for (const w of [...this.list]) {
      this.remove(w);
      w.reject(err);
    }
  }

  private remove(waiter: Waiter): void {
    waiter.done = true;
    waiter.cleanup();
    const i = this.list.indexOf(waiter);
    if (i >= 0) this.list.splice(i, 1);
  }

  private finish(waiter: Waiter): void {
    if (waiter.done) return;
    this.remove(waiter);
    waiter.resolve(waiter.got);
    this.onEnd(waiter.aborted);
  }
}
