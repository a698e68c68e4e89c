import type { Backend } from '@ilkkun/core';
import { Client, openBackend, redactUrl } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import { Completion, fill, SteadyLatency, timeBulk, timeOneByOne, withCleanup } from './measure.js';
import { type BenchPayload, benchPayload } from './payload.js';
import type { BenchSystem, Measured, Tick } from './system.js';

let seq = 0;
/** a queue name of its own per measurement (valid on every backend: [A-Za-z0-9_.:-]) */
export const benchQueue = (what: string) => `bench.${what}.${process.pid}.${Date.now()}.${++seq}`;

/**
 * ilkkun on any backend URL, opened through core's `openBackend` with this app's importer, so
 * every backend package this app depends on (@ilkkun/sqlite, @ilkkun/redis, …) resolves.
 * Consumers are the runner in `inline` mode with a no-op handler.
 */
export async function openIlkkun(url: string, timeoutMs: number): Promise<BenchSystem> {
  const backend = await openBackend(url, { importer: (s) => import(s) });
  return new IlkkunSystem(backend, redactUrl(url), timeoutMs);
}

class IlkkunSystem implements BenchSystem {
  readonly system: string;
  private readonly client: Client;

  constructor(
    private readonly backend: Backend,
    readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.system = `ilkkun/${backend.name}`;
    this.client = new Client(backend);
  }

  private addMany(queue: string) {
    return (from: number, n: number) =>
      this.client.addMany(Array.from({ length: n }, (_, k) => ({ queue, payload: benchPayload(from + k) })));
  }

  enqueueOne(count: number, tick: Tick): Promise<Measured> {
    const queue = benchQueue('enqueue');
    return withCleanup(
      () => timeOneByOne(count, (i) => this.client.add(queue, benchPayload(i)), tick),
      () => this.purge(queue),
    );
  }

  enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured> {
    const queue = benchQueue('enqueue-bulk');
    return withCleanup(
      () => timeBulk(count, batch, this.addMany(queue), tick),
      () => this.purge(queue),
    );
  }

  async process(count: number, concurrency: number, tick: Tick): Promise<Measured> {
    const queue = benchQueue(`process-c${concurrency}`);
    await fill(count, this.addMany(queue));
    const runner = createRunner({
      backend: this.backend,
      handlers: { [queue]: async () => {} },
      global: { concurrency, waitMs: 1_000 },
    });
    const completion = new Completion(count, tick, this.timeoutMs, `${this.system} process c=${concurrency}`);
    runner.on('job:complete', () => completion.one());
    return withCleanup(
      async () => {
        const t0 = performance.now();
        await runner.start();
        await completion.done;
        return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs: [] };
      },
      async () => {
        completion.cancel();
        await runner.stop({ graceMs: 0 });
        await this.purge(queue);
      },
    );
  }

  async latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured> {
    const queue = benchQueue('latency');
    const steady = new SteadyLatency(count, ratePerSec, tick, this.timeoutMs, `${this.system} latency`);
    const runner = createRunner({
      backend: this.backend,
      handlers: {
        [queue]: async (job) => {
          steady.started((job.payload as unknown as BenchPayload).i);
        },
      },
      // the runner's defaults otherwise: an idle pool waiting in its pop (waitMs 5 s)
      global: { concurrency },
    });
    return withCleanup(
      async () => {
        await runner.start();
        // let the pool reach its waiting pop before the first job arrives
        await new Promise((r) => setTimeout(r, 200));
        return steady.run((i) => this.client.add(queue, benchPayload(i)));
      },
      async () => {
        steady.completion.cancel();
        await runner.stop({ graceMs: 1_000 });
        await this.purge(queue);
      },
    );
  }

  private async purge(queue: string): Promise<void> {
    if (this.backend.inspector && this.backend.capabilities.inspect.purge) {
      await this.backend.inspector.purge(queue);
    }
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
