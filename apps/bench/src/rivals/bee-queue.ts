import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import { Completion, fill, SteadyLatency, timeBulk, timeOneByOne, withCleanup } from '../measure.js';
import { type BenchPayload, benchPayload } from '../payload.js';
import type { BenchSystem, Measured, RivalOpenOptions, RivalPlugin, Tick } from '../system.js';
import { connectRival, deleteKeys, displayUrl, type RedisTarget } from './redis-url.js';

const VERSION = '2.0.0';

/**
 * bee-queue on Redis: `createJob().save()` one by one, `saveAll` in bulk, a worker queue with
 * `process(concurrency, handler)`; `removeOnSuccess` and `storeJobs: false` (its fast path),
 * no pub/sub events. One key prefix per run; only its keys are ever deleted.
 */
export const beeQueue: RivalPlugin = {
  name: 'bee-queue',
  description: `bee-queue ${VERSION} on Redis (saveAll; removeOnSuccess, storeJobs false)`,
  defaultUrl: 'redis://127.0.0.1:6379/10',
  async open(url: string, options: RivalOpenOptions): Promise<BenchSystem> {
    const { target, admin, prefix } = await connectRival(url, 'bee');
    return new BeeQueueSystem(target, admin, prefix, options.timeoutMs);
  },
};

let seq = 0;

class BeeQueueSystem implements BenchSystem {
  readonly system = `bee-queue ${VERSION}`;
  readonly url: string;

  constructor(
    private readonly target: RedisTarget,
    private readonly admin: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.url = displayUrl(target);
  }

  private settings(isWorker: boolean): BeeQueue.QueueSettings {
    const redis: Record<string, unknown> = {
      host: this.target.host,
      port: this.target.port,
      db: this.target.db,
    };
    if (this.target.password) redis['password'] = this.target.password;
    return {
      prefix: this.prefix,
      redis,
      isWorker,
      getEvents: false,
      sendEvents: false,
      storeJobs: false,
      removeOnSuccess: true,
      removeOnFailure: true,
      activateDelayedJobs: false,
    };
  }

  private producer(): { name: string; queue: BeeQueue<BenchPayload>; cleanup: () => Promise<void> } {
    const name = `q${++seq}`;
    const queue = new BeeQueue<BenchPayload>(name, this.settings(false));
    return {
      name,
      queue,
      cleanup: async () => {
        await queue.close();
        await deleteKeys(this.admin, `${this.prefix}:${name}:*`);
      },
    };
  }

  private saveAll(queue: BeeQueue<BenchPayload>) {
    return async (from: number, n: number) => {
      const errors = await queue.saveAll(
        Array.from({ length: n }, (_, k) => queue.createJob(benchPayload(from + k))),
      );
      if (errors.size > 0) throw [...errors.values()][0];
    };
  }

  async enqueueOne(count: number, tick: Tick): Promise<Measured> {
    const { queue, cleanup } = this.producer();
    await queue.ready();
    return withCleanup(
      () => timeOneByOne(count, (i) => queue.createJob(benchPayload(i)).save(), tick),
      cleanup,
    );
  }

  async enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured> {
    const { queue, cleanup } = this.producer();
    await queue.ready();
    return withCleanup(() => timeBulk(count, batch, this.saveAll(queue), tick), cleanup);
  }

  async process(count: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { name, queue, cleanup } = this.producer();
    const completion = new Completion(count, tick, this.timeoutMs, `${this.system} process c=${concurrency}`);
    const worker = new BeeQueue<BenchPayload>(name, this.settings(true));
    worker.on('succeeded', () => completion.one());
    return withCleanup(
      async () => {
        await queue.ready();
        await fill(count, this.saveAll(queue));
        await worker.ready();
        const t0 = performance.now();
        worker.process(concurrency, async () => {});
        await completion.done;
        return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs: [] };
      },
      async () => {
        completion.cancel();
        await worker.close();
        await cleanup();
      },
    );
  }

  async latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { name, queue, cleanup } = this.producer();
    const steady = new SteadyLatency(count, ratePerSec, tick, this.timeoutMs, `${this.system} latency`);
    const worker = new BeeQueue<BenchPayload>(name, this.settings(true));
    return withCleanup(
      async () => {
        await queue.ready();
        await worker.ready();
        worker.process(concurrency, async (job) => {
          steady.started(job.data.i);
        });
        await new Promise((r) => setTimeout(r, 200));
        return steady.run((i) => queue.createJob(benchPayload(i)).save());
      },
      async () => {
        steady.completion.cancel();
        await worker.close();
        await cleanup();
      },
    );
  }

  async close(): Promise<void> {
    await deleteKeys(this.admin, `${this.prefix}:*`);
    await this.admin.quit();
  }
}
