/**
 * The one interface every benchmarked system implements: ilkkun on any backend URL, and each
 * rival (`rivals/<name>.ts`). Each method runs one bounded measurement on queue names of its
 * own and cleans up after itself. Timing goes through `measure.ts`, so every system is timed the
 * same way.
 */
export interface BenchSystem {
  /** label in tables and JSON, e.g. "ilkkun/sqlite", "bullmq 6.7.0" */
  readonly system: string;
  /** where it stores jobs, credentials redacted */
  readonly url: string;
  /** add `count` jobs one at a time, each awaited before the next */
  enqueueOne(count: number, tick: Tick): Promise<Measured>;
  /** add `count` jobs in calls of `batch` */
  enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured>;
  /** `count` jobs waiting (added untimed), then a consumer at `concurrency` with a no-op handler: start to last completion */
  process(count: number, concurrency: number, tick: Tick): Promise<Measured>;
  /** an idle consumer at `concurrency`; `count` jobs added one by one at `ratePerSec`; ms from each add to its handler */
  latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured>;
  close(): Promise<void>;
}

/** One measurement: jobs done in `seconds`, and per-item latencies in ms where the workload has them. */
export interface Measured {
  jobs: number;
  seconds: number;
  latenciesMs: number[];
}

/** progress: `done` of the measurement's jobs so far */
export type Tick = (done: number) => void;

/** A rival: a name for `--rival`, and how to open it on a URL (`--rival-url`). */
export interface RivalPlugin {
  readonly name: string;
  /** one line for `--help` */
  readonly description: string;
  /** the URL used when `--rival-url` is not given */
  readonly defaultUrl: string;
  open(url: string, options: RivalOpenOptions): Promise<BenchSystem>;
}

export interface RivalOpenOptions {
  /** a consumer measurement that has not finished after this long fails the run */
  timeoutMs: number;
}
