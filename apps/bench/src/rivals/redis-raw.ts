import { Redis } from 'ioredis';
import { Completion, fill, SteadyLatency, timeBulk, timeOneByOne, withCleanup } from '../measure.js';
import { type BenchPayload, benchPayload } from '../payload.js';
import type { BenchSystem, Measured, RivalOpenOptions, RivalPlugin, Tick } from '../system.js';
import { connectRival, deleteKeys, displayUrl, type RedisTarget } from './redis-url.js';

/**
 * The raw limit on Redis: a plain list as a work queue, nothing a job queue adds — LPUSH to
 * add (one command per job, or one per batch), and per slot a connection looping BRPOP → parse →
 * next. No leases, no acks, no retries: a consumer that dies loses its job. What is left between
 * this and a real queue is the price of those guarantees.
 */
export const redisRaw: RivalPlugin = {
  name: 'redis-raw',
  description: 'a raw Redis list: LPUSH, one BRPOP loop (connection) per slot; no acks, no leases',
  defaultUrl: 'redis://127.0.0.1:6379/10',
  async open(url: string, options: RivalOpenOptions): Promise<BenchSystem> {
    const { target, admin, prefix } = await connectRival(url, 'raw');
    return new RawSystem(target, admin, prefix, options.timeoutMs);
  },
};

let seq = 0;

class RawSystem implements BenchSystem {
  readonly system = 'raw Redis list';
  readonly url: string;

  constructor(
    private readonly target: RedisTarget,
    private readonly admin: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.url = displayUrl(target);
  }

  private key(): string {
    return `${this.prefix}:q${++seq}`;
  }

  private addMany(key: string) {
    return (from: number, n: number) =>
      this.admin.lpush(key, ...Array.from({ length: n }, (_, k) => JSON.stringify(benchPayload(from + k))));
  }

  /** `concurrency` connections, each BRPOP-ing one job at a time; `onJob` gets each body */
  private consume(key: string, concurrency: number, onJob: (body: string) => void): () => Promise<void> {
    let running = true;
    const conns = Array.from(
      { length: concurrency },
      () => new Redis({ ...this.target, maxRetriesPerRequest: null }),
    );
    const loops = conns.map(async (conn) => {
      while (running) {
        const got = await conn.brpop(key, 1).catch(() => null);
        if (!got) continue;
        JSON.parse(got[1]);
        onJob(got[1]);
      }
    });
    return async () => {
      running = false;
      await Promise.allSettled(loops);
      for (const c of conns) c.disconnect();
    };
  }

  enqueueOne(count: number, tick: Tick): Promise<Measured> {
    const key = this.key();
    return withCleanup(
      () => timeOneByOne(count, (i) => this.admin.lpush(key, JSON.stringify(benchPayload(i))), tick),
      () => this.admin.unlink(key),
    );
  }

  enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured> {
    const key = this.key();
    return withCleanup(
      () => timeBulk(count, batch, this.addMany(key), tick),
      () => this.admin.unlink(key),
    );
  }

  async process(count: number, concurrency: number, tick: Tick): Promise<Measured> {
    const key = this.key();
    const completion = new Completion(count, tick, this.timeoutMs, `${this.system} process c=${concurrency}`);
    let stop: (() => Promise<void>) | undefined;
    return withCleanup(
      async () => {
        await fill(count, this.addMany(key));
        const t0 = performance.now();
        stop = this.consume(key, concurrency, () => completion.one());
        await completion.done;
        return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs: [] };
      },
      async () => {
        completion.cancel();
        await stop?.();
        await this.admin.unlink(key);
      },
    );
  }

  async latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured> {
    const key = this.key();
    const steady = new SteadyLatency(count, ratePerSec, tick, this.timeoutMs, `${this.system} latency`);
    const stop = this.consume(key, concurrency, (body) =>
      steady.started((JSON.parse(body) as BenchPayload).i),
    );
    return withCleanup(
      async () => {
        await new Promise((r) => setTimeout(r, 200));
        return steady.run((i) => this.admin.lpush(key, JSON.stringify(benchPayload(i))));
      },
      async () => {
        steady.completion.cancel();
        await stop();
        await this.admin.unlink(key);
      },
    );
  }

  async close(): Promise<void> {
    await deleteKeys(this.admin, `${this.prefix}:*`);
    await this.admin.quit();
  }
}
