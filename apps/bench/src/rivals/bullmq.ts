import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Completion, fill, SteadyLatency, timeBulk, timeOneByOne, withCleanup } from '../measure.js';
import { type BenchPayload, benchPayload } from '../payload.js';
import type { BenchSystem, Measured, RivalOpenOptions, RivalPlugin, Tick } from '../system.js';
import { connectRival, deleteKeys, displayUrl, type RedisTarget } from './redis-url.js';

/** The version perf-measured.md's figures are for (pinned in package.json). */
const VERSION = '6.7.0';
/** BullMQ's advice for completed jobs you do not need: remove them, or Redis fills up. */
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;

/**
 * BullMQ on Redis: `Queue.add` / `Queue.addBulk` with `removeOnComplete`, consumed by a
 * `Worker` with `concurrency`. One key prefix per run; only its keys are ever deleted.
 */
export const bullmq: RivalPlugin = {
  name: 'bullmq',
  description: `BullMQ ${VERSION} on Redis (removeOnComplete; Worker concurrency)`,
  defaultUrl: 'redis://127.0.0.1:6379/10',
  async open(url: string, options: RivalOpenOptions): Promise<BenchSystem> {
    const { target, admin, prefix } = await connectRival(url, 'bullmq');
    return new BullmqSystem(target, admin, prefix, options.timeoutMs);
  },
};

let seq = 0;

class BullmqSystem implements BenchSystem {
  readonly system = `bullmq ${VERSION}`;
  readonly url: string;
  private readonly connection: RedisTarget & { maxRetriesPerRequest: null };

  constructor(
    target: RedisTarget,
    private readonly admin: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.url = displayUrl(target);
    // BullMQ requires maxRetriesPerRequest null for its blocking connections
    this.connection = { ...target, maxRetriesPerRequest: null };
  }

  private queue(): { name: string; queue: Queue; cleanup: () => Promise<void> } {
    const name = `q${++seq}`;
    const queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
    return {
      name,
      queue,
      cleanup: async () => {
        await queue.close();
        await deleteKeys(this.admin, `${this.prefix}:${name}:*`);
      },
    };
  }

  private addMany(queue: Queue) {
    return (from: number, n: number) =>
      queue.addBulk(
        Array.from({ length: n }, (_, k) => ({
          name: 'job',
          data: benchPayload(from + k),
          opts: JOB_OPTIONS,
        })),
      );
  }

  async enqueueOne(count: number, tick: Tick): Promise<Measured> {
    const { queue, cleanup } = this.queue();
    await queue.waitUntilReady();
    return withCleanup(
      () => timeOneByOne(count, (i) => queue.add('job', benchPayload(i), JOB_OPTIONS), tick),
      cleanup,
    );
  }

  async enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured> {
    const { queue, cleanup } = this.queue();
    await queue.waitUntilReady();
    return withCleanup(() => timeBulk(count, batch, this.addMany(queue), tick), cleanup);
  }

  async process(count: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { name, queue, cleanup } = this.queue();
    const completion = new Completion(count, tick, this.timeoutMs, `${this.system} process c=${concurrency}`);
    let worker: Worker | undefined;
    return withCleanup(
      async () => {
        await fill(count, this.addMany(queue));
        worker = new Worker(name, async () => {}, {
          connection: this.connection,
          prefix: this.prefix,
          concurrency,
          autorun: false,
        });
        worker.on('completed', () => completion.one());
        await worker.waitUntilReady();
        const t0 = performance.now();
        void worker.run();
        await completion.done;
        return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs: [] };
      },
      async () => {
        completion.cancel();
        await worker?.close();
        await cleanup();
      },
    );
  }

  async latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { name, queue, cleanup } = this.queue();
    const steady = new SteadyLatency(count, ratePerSec, tick, this.timeoutMs, `${this.system} latency`);
    let worker: Worker | undefined;
    return withCleanup(
      async () => {
        await queue.waitUntilReady();
        worker = new Worker(
          name,
          async (job) => {
            steady.started((job.data as BenchPayload).i);
          },
          { connection: this.connection, prefix: this.prefix, concurrency },
        );
        await worker.waitUntilReady();
        await new Promise((r) => setTimeout(r, 200));
        return steady.run((i) => queue.add('job', benchPayload(i), JOB_OPTIONS));
      },
      async () => {
        steady.completion.cancel();
        await worker?.close();
        await cleanup();
      },
    );
  }

  async close(): Promise<void> {
    await deleteKeys(this.admin, `${this.prefix}:*`);
    await this.admin.quit();
  }
}
