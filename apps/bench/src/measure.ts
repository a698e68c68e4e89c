import type { Measured, Tick } from './system.js';

/**
 * Shared timing for every system, so ilkkun and its rivals are measured by the same code:
 * wall-clock `performance.now()` around the timed part only, per-call latencies alongside.
 */

/** `count` adds, one awaited at a time. */
export async function timeOneByOne(
  count: number,
  add: (i: number) => Promise<unknown>,
  tick: Tick,
): Promise<Measured> {
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await add(i);
    latenciesMs.push(performance.now() - s);
    if ((i + 1) % 100 === 0) tick(i + 1);
  }
  return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs };
}

/** `count` adds in calls of `batch`, one call at a time. */
export async function timeBulk(
  count: number,
  batch: number,
  addMany: (from: number, n: number) => Promise<unknown>,
  tick: Tick,
): Promise<Measured> {
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const s = performance.now();
    await addMany(done, n);
    latenciesMs.push(performance.now() - s);
    tick(done + n);
  }
  return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs };
}

/** Fill a queue untimed, in batches. */
export async function fill(
  count: number,
  addMany: (from: number, n: number) => Promise<unknown>,
): Promise<void> {
  for (let done = 0; done < count; done += 1_000) await addMany(done, Math.min(1_000, count - done));
}

/**
 * Counts completions up to `count`. `done` resolves at the last one and rejects after
 * `timeoutMs`, so a stuck consumer fails the run instead of hanging it.
 */
export class Completion {
  private n = 0;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private readonly timer: NodeJS.Timeout;
  readonly done: Promise<void>;

  constructor(
    private readonly count: number,
    private readonly tick: Tick,
    timeoutMs: number,
    what: string,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    this.timer = setTimeout(
      () => this.rejectDone(new Error(`${what}: only ${this.n} of ${count} jobs done after ${timeoutMs} ms`)),
      timeoutMs,
    );
    if (count === 0) this.finish();
  }

  get completed(): number {
    return this.n;
  }

  /** call once per completed job */
  one(): void {
    this.n++;
    if (this.n % 100 === 0) this.tick(this.n);
    if (this.n === this.count) this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.resolveDone();
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Pickup latency at a steady low rate: job i is added at t0 + i/rate (never in a burst to catch
 * up), its add time noted just before the call; `started(i)` notes when a handler began job i.
 * Latency = handler start − add start, both on this process's clock.
 */
export class SteadyLatency {
  private readonly addedAt = new Map<number, number>();
  private readonly latencies: number[] = [];
  readonly completion: Completion;

  constructor(
    private readonly count: number,
    private readonly ratePerSec: number,
    tick: Tick,
    timeoutMs: number,
    what: string,
  ) {
    this.completion = new Completion(count, tick, timeoutMs, what);
  }

  /** a handler began job `i` (call it first thing in the handler) */
  started(i: number): void {
    const at = this.addedAt.get(i);
    if (at === undefined) return;
    this.addedAt.delete(i);
    this.latencies.push(performance.now() - at);
    this.completion.one();
  }

  async run(add: (i: number) => Promise<unknown>): Promise<Measured> {
    const interval = 1000 / this.ratePerSec;
    const t0 = performance.now();
    for (let i = 0; i < this.count; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.addedAt.set(i, performance.now());
      await add(i);
    }
    await this.completion.done;
    return { jobs: this.count, seconds: (performance.now() - t0) / 1000, latenciesMs: this.latencies };
  }
}

/** Run `fn`, and make sure `cleanup` runs after it whatever happens. */
export async function withCleanup<T>(fn: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> {
  try {
    return await fn();
  } finally {
    await cleanup();
  }
}
