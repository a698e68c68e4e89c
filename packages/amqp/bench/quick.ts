/**
 * Quick local measurement of the AMQP backend against the raw amqplib work queue it is judged
 * by (issue 6; not the cross-library benchmark, which lives in apps/bench). Same broker, same
 * run. On a shared 2-core machine wall-clock rates swing a lot between minutes, so every raw run
 * is paired with the ilkkun runs right after it and the RATIO is taken per pair (median over
 * pairs); CPU time per job (broker + client, from /proc and process.cpuUsage) is reported too,
 * as it hardly depends on what else the machine is doing.
 *
 * - raw: durable queue, persistent messages, confirms (one wait per 1000), consume with
 *   prefetch = c, one basic.ack per message — the loop in shared/research/perf-measured.md.
 * - ilkkun push: Client.addMany, 1000 jobs per call, confirmed together.
 * - ilkkun fetch-loop: the runner's traffic alone (pop max = free slots with waitMs, one ack
 *   per job); ilkkun runner: @ilkkun/runner with a no-op handler, concurrency c.
 * - both on a plain classic queue (`maxPriority=0`) and on a priority queue (the default
 *   `maxPriority=20`; the raw loop then runs on an `x-max-priority` 20 queue too).
 * - pickup latency: one job every 20 ms into an idle, waiting runner; push start → handler start.
 *
 * Bounded: BENCH_JOBS (default 20 000, at most 200 000) per run, BENCH_PAIRS (default 3, at
 * most 10) pairs per setting, 200 latency samples.
 *
 *   pnpm --filter @ilkkun/amqp bench          # ILKKUN_AMQP_URL, default amqp://guest:guest@127.0.0.1:5672
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { type AmqpBackend, openAmqpBackend } from '@ilkkun/amqp';
import { type Backend, Client, type LeasedJobRecord, WakeSignal } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import amqp from 'amqplib';

const BASE_URL = process.env['ILKKUN_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const JOBS = Math.min(200_000, Number(process.env['BENCH_JOBS'] ?? 20_000));
const PAIRS = Math.min(10, Number(process.env['BENCH_PAIRS'] ?? 3));
const LATENCY_SAMPLES = 200;
const payload = { to: 'user@example.com', subject: 'hello', body: 'x'.repeat(40), n: 0 };
const run = randomBytes(3).toString('hex');
const opened: AmqpBackend[] = [];
const rawQueues: string[] = [];

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function urlWith(params: Record<string, string | number>): string {
  const u = new URL(BASE_URL);
  u.search = '';
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

// ---------------------------------------------------------------- CPU accounting
/** The broker's OS process on this machine, if it is local (Linux /proc): for CPU per job. */
function findBroker(): number | undefined {
  if (process.env['BENCH_BROKER_PID']) return Number(process.env['BENCH_BROKER_PID']);
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('beam.smp')) return Number(entry);
      } catch {
        // a process that just ended
      }
    }
  } catch {
    // no /proc: CPU figures are left out
  }
  return undefined;
}
const broker = findBroker();
const brokerCpuMs = () => {
  if (!broker) return 0;
  const f = readFileSync(`/proc/${broker}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in 10 ms ticks
};
const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Measured {
  rate: number;
  /** CPU µs per job: broker, client */
  brokerUs: number;
  clientUs: number;
}

async function measure(n: number, work: () => Promise<void>): Promise<Measured> {
  const b0 = brokerCpuMs();
  const c0 = clientCpuMs();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  return {
    rate: (n / ms) * 1000,
    brokerUs: ((brokerCpuMs() - b0) * 1000) / n,
    clientUs: ((clientCpuMs() - c0) * 1000) / n,
  };
}

// ---------------------------------------------------------------- raw amqplib
async function rawRound(
  concurrency: number,
  maxPriority: number,
): Promise<{ push: Measured; process: Measured }> {
  const conn = await amqp.connect(urlWith({}));
  try {
    const pub = await conn.createConfirmChannel();
    const q = `ilkkun-bench-raw-${run}-${randomBytes(3).toString('hex')}`;
    rawQueues.push(q);
    await pub.assertQueue(q, { durable: true, ...(maxPriority > 0 ? { maxPriority } : {}) });
    const options = maxPriority > 0 ? { persistent: true, priority: maxPriority / 2 } : { persistent: true };
    const push = await measure(JOBS, async () => {
      for (let i = 0; i < JOBS; i++) {
        const body = Buffer.from(JSON.stringify({ ...payload, n: i }));
        if (!pub.sendToQueue(q, body, options)) await new Promise((r) => pub.once('drain', r));
        if (i % 1000 === 999) await pub.waitForConfirms();
      }
      await pub.waitForConfirms();
    });
    const ch = await conn.createChannel();
    await ch.prefetch(concurrency);
    const process = await measure(JOBS, async () => {
      let done = 0;
      await new Promise<void>((resolve) => {
        void ch.consume(q, (msg) => {
          if (!msg) return;
          JSON.parse(msg.content.toString('utf8'));
          // the handler runs asynchronously, as a job handler would
          setImmediate(() => {
            ch.ack(msg);
            if (++done === JOBS) resolve();
          });
        });
      });
    });
    await ch.close();
    await pub.deleteQueue(q);
    return { push, process };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------- ilkkun
async function bulkAdd(client: Client, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    await client.addMany(
      Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ queue, payload: { ...payload, n: i + k } })),
    );
  }
}

/** The runner's fetch loop reduced to its backend traffic: pop max = free slots, ack each job. */
async function fetchLoop(backend: Backend, queue: string, n: number, concurrency: number): Promise<void> {
  let free = concurrency;
  let done = 0;
  const slotFreed = new WakeSignal();
  const stop = new AbortController();
  const finish = async (job: LeasedJobRecord) => {
    JSON.parse(job.payload);
    await new Promise<void>((r) => setImmediate(r));
    await backend.ack(job);
    done++;
    free++;
    if (done === n) stop.abort();
    slotFreed.notify();
  };
  while (done < n) {
    if (free === 0) {
      await slotFreed.wait(1000);
      continue;
    }
    const jobs = await backend.pop([queue], {
      max: free,
      leaseMs: 60_000,
      waitMs: 2000,
      signal: stop.signal,
    });
    free -= jobs.length;
    for (const job of jobs) void finish(job);
  }
}

async function runnerRound(backend: Backend, queue: string, n: number, concurrency: number): Promise<void> {
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => {
    resolveAll = r;
  });
  const runner = createRunner({
    backend,
    handlers: {
      [queue]: async () => {
        if (++done === n) resolveAll();
      },
    },
    global: { concurrency, waitMs: 2000 },
  });
  await runner.start();
  await all;
  await runner.stop({ graceMs: 1000 });
}

async function ilkkunRound(
  maxPriority: number,
  concurrency: number,
): Promise<{ push: Measured; loop: Measured; runner: Measured }> {
  const backend = await openAmqpBackend(urlWith({ prefix: `ilkkun-bench-${run}`, maxPriority }));
  opened.push(backend);
  const client = new Client(backend);
  const q = `p${maxPriority}.c${concurrency}.${randomBytes(3).toString('hex')}`;
  const push = await measure(JOBS, () => bulkAdd(client, q, JOBS));
  const loop = await measure(JOBS, () => fetchLoop(backend, q, JOBS, concurrency));
  await bulkAdd(client, q, JOBS);
  const runner = await measure(JOBS, () => runnerRound(backend, q, JOBS, concurrency));
  await backend.close();
  return { push, loop, runner };
}

async function oneByOne(): Promise<number> {
  const backend = await openAmqpBackend(urlWith({ prefix: `ilkkun-bench-${run}`, maxPriority: 0 }));
  opened.push(backend);
  const client = new Client(backend);
  const n = Math.min(JOBS, 3000);
  const m = await measure(n, async () => {
    for (let i = 0; i < n; i++) await client.add('single', { ...payload, n: i });
  });
  await backend.inspector.purge('single');
  await backend.close();
  return m.rate;
}

/** Pickup latency at a steady low rate: an idle runner waiting natively; push start → handler start. */
async function pickupLatency(maxPriority: number): Promise<number[]> {
  const url = urlWith({ prefix: `ilkkun-bench-${run}`, maxPriority });
  const backend = await openAmqpBackend(url);
  const producer = await openAmqpBackend(url);
  opened.push(backend, producer);
  const client = new Client(producer);
  const q = `latency.p${maxPriority}`;
  const sentAt = new Map<number, number>();
  const samples: number[] = [];
  const runner = createRunner({
    backend,
    handlers: {
      [q]: async (job) => {
        samples.push(performance.now() - sentAt.get((job.payload as { n: number }).n)!);
      },
    },
    global: { concurrency: 16, waitMs: 5000 },
  });
  await runner.start();
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    sentAt.set(i, performance.now());
    await client.add(q, { ...payload, n: i });
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 10_000;
  while (samples.length < LATENCY_SAMPLES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await runner.stop({ graceMs: 1000 });
  await backend.close();
  await producer.close();
  return samples;
}

async function rawPickupLatency(): Promise<number[]> {
  const conn = await amqp.connect(urlWith({}));
  const q = `ilkkun-bench-raw-${run}-latency`;
  rawQueues.push(q);
  const pub = await conn.createConfirmChannel();
  await pub.assertQueue(q, { durable: true });
  const ch = await conn.createChannel();
  await ch.prefetch(16);
  const samples: number[] = [];
  const sentAt = new Map<number, number>();
  await ch.consume(q, (msg) => {
    if (!msg) return;
    const n = (JSON.parse(msg.content.toString('utf8')) as { n: number }).n;
    samples.push(performance.now() - sentAt.get(n)!);
    ch.ack(msg);
  });
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    sentAt.set(i, performance.now());
    pub.sendToQueue(q, Buffer.from(JSON.stringify({ ...payload, n: i })), { persistent: true });
    await pub.waitForConfirms();
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 10_000;
  while (samples.length < LATENCY_SAMPLES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await pub.deleteQueue(q);
  await conn.close();
  return samples;
}

async function cleanup(): Promise<void> {
  const names = new Set<string>(rawQueues);
  for (const b of opened) {
    await b.close().catch(() => undefined);
    for (const name of b.declaredQueues()) names.add(name);
  }
  const conn = await amqp.connect(urlWith({}));
  const ch = await conn.createChannel();
  for (const name of names) await ch.deleteQueue(name);
  await conn.close();
}

function row(label: string, ms: Measured[], rawMs?: Measured[]): string {
  const rate = median(ms.map((m) => m.rate));
  const ratio = rawMs
    ? ` ${String(Math.round(median(ms.map((m, i) => m.rate / rawMs[i]!.rate)) * 100)).padStart(4)} %`
    : '       ';
  const cpu = broker
    ? `   cpu/job broker ${median(ms.map((m) => m.brokerUs))
        .toFixed(0)
        .padStart(3)} µs + client ${median(ms.map((m) => m.clientUs))
        .toFixed(0)
        .padStart(3)} µs`
    : '';
  return `  ${label.padEnd(36)} ${fmt(rate).padStart(7)}/s${ratio}${cpu}   (${ms.map((m) => fmt(m.rate)).join(', ')})`;
}

async function main(): Promise<void> {
  console.log(
    `ilkkun amqp quick bench: ${fmt(JOBS)} jobs per run, ${PAIRS} pairs per setting, node ${process.version}` +
      (broker ? `, broker pid ${broker}` : ', broker CPU not visible'),
  );
  console.log('ratio = median over pairs of (ilkkun run / the raw run just before it)\n');
  for (const maxPriority of [0, 20]) {
    console.log(
      maxPriority === 0
        ? 'plain classic queue (maxPriority=0)'
        : 'priority queue (x-max-priority 20, the default)',
    );
    for (const c of [16, 64]) {
      const raw: { push: Measured; process: Measured }[] = [];
      const ours: { push: Measured; loop: Measured; runner: Measured }[] = [];
      for (let i = 0; i < PAIRS; i++) {
        raw.push(await rawRound(c, maxPriority));
        ours.push(await ilkkunRound(maxPriority, c));
      }
      const rawP = raw.map((r) => r.process);
      if (c === 16) {
        console.log(
          row(
            'raw push (confirm per 1000)',
            raw.map((r) => r.push),
          ),
        );
        console.log(
          row(
            'ilkkun push (addMany 1000, confirmed)',
            ours.map((r) => r.push),
            raw.map((r) => r.push),
          ),
        );
      }
      console.log(row(`raw process c=${c}`, rawP));
      console.log(
        row(
          `ilkkun fetch-loop c=${c}`,
          ours.map((r) => r.loop),
          rawP,
        ),
      );
      console.log(
        row(
          `ilkkun runner c=${c}`,
          ours.map((r) => r.runner),
          rawP,
        ),
      );
    }
  }
  console.log(`\nilkkun add() one by one (confirm each): ${fmt(await oneByOne())}/s`);
  console.log(
    `\npickup latency, one job every 20 ms, ${LATENCY_SAMPLES} samples (push start → handler start)`,
  );
  const rawLatency = await rawPickupLatency();
  console.log(
    `  raw amqplib consumer            p50 ${pct(rawLatency, 50).toFixed(1)} ms  p99 ${pct(rawLatency, 99).toFixed(1)} ms`,
  );
  for (const mp of [0, 20]) {
    const s = await pickupLatency(mp);
    console.log(
      `  ilkkun runner maxPriority=${String(mp).padEnd(2)}    p50 ${pct(s, 50).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms  (${s.length} samples)`,
    );
  }
}

try {
  await main();
} finally {
  await cleanup();
}
