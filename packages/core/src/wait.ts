/**
 * Waiting helpers shared by backends whose store cannot block a reader (SQL, SQLite, FerretDB).
 * Seed 000's daemon slept `rand(3,7)` seconds when idle; here an idle pop polls adaptively
 * (fast after activity, slower when idle, never above `maxPollMs`) with jitter, and an
 * in-process `WakeSignal` cuts the wait short the moment a push in the same process lands.
 */

/** Resolves after `ms`, or early when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An in-process doorbell: `wait` resolves on the next `notify`, on timeout or on abort. */
export class WakeSignal {
  private waiters = new Set<() => void>();

  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** resolves true when woken by `notify`, false on timeout or abort */
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(onWake);
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onWake = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      this.waiters.add(onWake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export interface PollingWaitOptions<T> {
  /** one non-blocking attempt */
  attempt: () => Promise<T[]>;
  waitMs: number;
  signal?: AbortSignal | undefined;
  /** wakes the loop for pushes made in this process */
  wake?: WakeSignal | undefined;
  /** when the earliest delayed job of interest comes due (ms epoch), if known */
  nextDueAt?: (() => Promise<number | undefined>) | undefined;
  /** first poll interval after an empty attempt (default 5 ms) */
  minPollMs?: number;
  /** poll interval ceiling when idle (default 250 ms) */
  maxPollMs?: number;
  /**
   * cheap check that the store changed since the last look (e.g. SQLite's `data_version`);
   * when given, the loop polls this quickly and only re-runs `attempt` when it says true
   */
  changed?: (() => boolean) | undefined;
}

/**
 * Run `attempt` until it returns something, the wait runs out, or `signal` aborts.
 * Sleep intervals double from `minPollMs` to `maxPollMs` with ±25% jitter, so pools started
 * together drift apart instead of polling in lockstep.
 */
export async function pollingWait<T>(options: PollingWaitOptions<T>): Promise<T[]> {
  const deadline = Date.now() + options.waitMs;
  const minPoll = options.minPollMs ?? 5;
  const maxPoll = options.maxPollMs ?? 250;
  let interval = minPoll;
  for (;;) {
    const found = await options.attempt();
    if (found.length > 0) return found;
    let now = Date.now();
    if (options.signal?.aborted || now >= deadline) return [];
    const due = options.nextDueAt ? await options.nextDueAt() : undefined;
    // Poll the cheap change detector until something changes, a job comes due, or time runs out.
    for (;;) {
      now = Date.now();
      let sleepMs = Math.min(deadline - now, interval * (0.75 + Math.random() * 0.5));
      if (due !== undefined) sleepMs = Math.min(sleepMs, Math.max(0, due - now) + 1);
      let woken = false;
      if (options.wake) woken = await options.wake.wait(sleepMs, options.signal);
      else await sleep(sleepMs, options.signal);
      if (options.signal?.aborted) return [];
      // a sign of activity (a push here, a commit elsewhere) resets polling to its fastest
      const active = woken || (options.changed?.() ?? false);
      interval = active ? minPoll : Math.min(maxPoll, interval * 2);
      if (active || !options.changed) break;
      if (due !== undefined && Date.now() >= due) break;
      if (Date.now() >= deadline) break;
    }
  }
}
