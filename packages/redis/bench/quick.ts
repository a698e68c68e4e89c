/**
 * Quick local measurement of the Redis backend (not the cross-library benchmark, which lives in
 * apps/bench): bulk and one-by-one enqueue, processing throughput at concurrency 16 and 64
 * with a runner-like fetch loop (pop max = free slots, one ack() per job, as @ilkkun/runner does),
 * and pickup latency of a blocked pop. Bounded: 20k jobs per phase by default (plus an untimed
 * 5k warm-up before each processing phase).
 *
 *   pnpm --filter @ilkkun/redis bench            # ILKKUN_REDIS_URL, default redis://127.0.0.1:6379/9
 *   BENCH_JOBS=50000 pnpm --filter @ilkkun/redis bench
 */
import { randomBytes } from 'node:crypto';
import { type Backend, Client, type LeasedJobRecord, WakeSignal } from '@ilkkun/core';
import { createBackend } from '@ilkkun/redis';
import { Redis } from 'ioredis';

const BASE_URL = process.env['ILKKUN_REDIS_URL'] ?? 'redis://127.0.0.1:6379/9';
const JOBS = Math.min(200_000, Number(process.env['BENCH_JOBS'] ?? 20_000));
const prefix = `ilkkun-bench-${randomBytes(3).toString('hex')}`;
const url = `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}prefix=${prefix}`;
const payload = { to: 'user@example.com', subject: 'hello', body: 'x'.repeat(40), n: 0 };

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

async function bulkAdd(client: Client, queue: string, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await client.addMany(
      Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ queue, payload: { ...payload, n: i + k } })),
    );
  }
  return performance.now() - t0;
}

/** The runner's fetch loop, reduced to its Redis traffic: pop max = free slots, ack each job alone. */
async function processAll(backend: Backend, queue: string, n: number, concurrency: number): Promise<number> {
  let free = concurrency;
  let done = 0;
  let endedAt = 0;
  const slotFreed = new WakeSignal();
  // the last pop waits for jobs that will never come: cut it when the last job is acked
  const stop = new AbortController();
  const t0 = performance.now();
  const finish = async (job: LeasedJobRecord) => {
    JSON.parse(job.payload); // what the runner's decodeJob does
    await Promise.resolve(); // the no-op handler
    await backend.ack(job);
    done++;
    free++;
    if (done === n) {
      endedAt = performance.now();
      stop.abort();
    }
    slotFreed.notify();
  };
  while (done < n) {
    if (free === 0) {
      await slotFreed.wait(1000);
      continue;
    }
    const jobs = await backend.pop([queue], {
      max: free,
      leaseMs: 30_000,
      waitMs: 1000,
      signal: stop.signal,
    });
    free -= jobs.length;
    for (const job of jobs) void finish(job);
  }
  return endedAt - t0;
}

async function pickup(
  consumer: Backend,
  producer: Backend,
  queue: string,
  samples: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const popping = consumer.pop([queue], { max: 1, leaseMs: 30_000, waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await producer.push([{ queue, payload: '1', priority: 0, runAt: new Date(), maxAttempts: 1 }]);
    const [job] = await popping;
    out.push(performance.now() - t0);
    await consumer.ack(job!);
  }
  return out.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const backend = await createBackend(url);
  const client = new Client(backend);
  const lines: string[] = [
    `ilkkun redis quick bench — ${JOBS} jobs per phase, ~${JSON.stringify(payload).length}-byte payload, ${BASE_URL.replace(/\/\/[^@/]*@/, '//***@')}`,
  ];
  try {
    const bulkMs = await bulkAdd(client, 'bulk', JOBS);
    lines.push(`add bulk (addMany ×1000):      ${rate(JOBS, bulkMs)}`);

    const singles = Math.min(JOBS, 5000);
    let t0 = performance.now();
    for (let i = 0; i < singles; i++) await client.add('single', { ...payload, n: i });
    lines.push(`add one by one (awaited):      ${rate(singles, performance.now() - t0)}`);

    t0 = performance.now();
    await Promise.all(
      Array.from({ length: singles }, (_, i) => client.add('concurrent', { ...payload, n: i })),
    );
    lines.push(`add one by one (concurrent):   ${rate(singles, performance.now() - t0)}`);

    for (const c of [1, 16, 64]) {
      const q = `proc-${c}`;
      const n = c === 1 ? Math.min(JOBS, 5000) : JOBS;
      // an untimed warm-up round first, so the figure is not the JIT compiling the hot path
      const warm = Math.min(n, 5000);
      await bulkAdd(client, `${q}-warm`, warm);
      await processAll(backend, `${q}-warm`, warm, c);
      await bulkAdd(client, q, n);
      const ms = await processAll(backend, q, n, c);
      lines.push(`process c=${String(c).padEnd(3)} (pop+ack):      ${rate(n, ms)}`);
    }

    const producer = await createBackend(url);
    const lat = await pickup(backend, producer, 'pickup', 500);
    await producer.close();
    const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(2);
    lines.push(`pickup latency (push → popped, 500 samples): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);
  } finally {
    await backend.close();
    const raw = new Redis(BASE_URL);
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    raw.disconnect();
  }
  console.log(lines.join('\n'));
}

await main();
