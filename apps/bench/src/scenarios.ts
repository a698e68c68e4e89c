import type { Backend } from '@ilkkun/core';
import { Client } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import { percentile } from './stats.js';

/**
 * One measurement each. Every scenario uses queue names of its own, so runs never see each
 * other's jobs, and measures wall-clock time around the operation only.
 */

let seq = 0;
const queueFor = (what: string) => `bench.${what}.${process.pid}.${Date.now()}.${++seq}`;

/** Jobs added per second, one `add` (one round trip) at a time. */
export async function addOneByOne(backend: Backend, count: number): Promise<number> {
  const client = new Client(backend);
  const queue = queueFor('add-one');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await client.add(queue, { i });
  const seconds = (performance.now() - t0) / 1000;
  await purge(backend, queue);
  return count / seconds;
}

/** Jobs added per second with `addMany` in batches of `batch`. */
export async function addBulk(backend: Backend, count: number, batch = 1_000): Promise<number> {
  const client = new Client(backend);
  const queue = queueFor('add-bulk');
  const t0 = performance.now();
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await client.addMany(Array.from({ length: n }, (_, i) => ({ queue, payload: { i: done + i } })));
  }
  const seconds = (performance.now() - t0) / 1000;
  await purge(backend, queue);
  return count / seconds;
}

/**
 * Jobs processed per second by a runner with a no-op handler at `concurrency`: the jobs are
 * added first (not timed), then the clock runs from `start()` to the last completion.
 */
export async function processThroughput(
  backend: Backend,
  count: number,
  concurrency: number,
): Promise<number> {
  const queue = queueFor(`process-c${concurrency}`);
  const client = new Client(backend);
  for (let done = 0; done < count; done += 1_000) {
    const n = Math.min(1_000, count - done);
    await client.addMany(Array.from({ length: n }, (_, i) => ({ queue, payload: { i: done + i } })));
  }
  const runner = createRunner({
    backend,
    handlers: { [queue]: async () => {} },
    global: { concurrency, waitMs: 200 },
  });
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  runner.on('job:complete', () => {
    if (++completed === count) resolveDone();
  });
  const t0 = performance.now();
  await runner.start();
  await done;
  const seconds = (performance.now() - t0) / 1000;
  await runner.stop({ graceMs: 0 });
  return count / seconds;
}

/**
 * Pickup latency: an idle runner is waiting on its pop; jobs are added one at a time, `gapMs`
 * apart, and each `job:start` reports start − max(runAt, createdAt).
 */
export async function pickupLatency(
  backend: Backend,
  count: number,
  gapMs = 5,
): Promise<{ p50: number; p99: number; samples: number }> {
  const queue = queueFor('pickup');
  const client = new Client(backend);
  const runner = createRunner({
    backend,
    handlers: { [queue]: async () => {} },
    global: { concurrency: 16, waitMs: 5_000 },
  });
  const latencies: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  runner.on('job:start', ({ pickupMs }) => {
    latencies.push(pickupMs);
    if (latencies.length === count) resolveDone();
  });
  await runner.start();
  // let the fetch loop reach its waiting pop before the first job arrives
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < count; i++) {
    await client.add(queue, { i });
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await done;
  await runner.stop({ graceMs: 1_000 });
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length };
}

async function purge(backend: Backend, queue: string): Promise<void> {
  if (backend.inspector && backend.capabilities.inspect.purge) await backend.inspector.purge(queue);
}
