/**
 * Quick local measurement of the SQS backend against its rivals on the same emulator, in the same
 * run (not the cross-library benchmark in apps/bench): bulk enqueue; processing throughput at
 * concurrency 16 and 64 with @ilkkun/runner (no-op handler), sqs-consumer 14 (the package Node
 * users pick; batchSize 10, one consumer per 10 slots) and a raw ReceiveMessage(10, long poll) /
 * DeleteMessageBatch loop (one loop per 10 slots); and pickup latency of a waiting pop.
 * Bounded: BENCH_JOBS per phase (default 5000, at most 100 000). Only loopback endpoints.
 *
 * BENCH_LATENCY_MS=15 puts a TCP proxy in front of the emulator that delays every chunk by half
 * that each way (15 ms more per round trip), standing in for real SQS's per-call latency: then
 * round trips, not the emulator's CPU, are the bound. (`tc netem` in a network namespace would be
 * the kernel's way; this machine's kernel has no netem qdisc.)
 *
 *   bash scripts/services/start.sh fauxqs
 *   pnpm --filter @ilkkun/sqs bench
 *   BENCH_JOBS=20000 pnpm --filter @ilkkun/sqs bench
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Backend, Client } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import { createBackend, parseSqsUrl } from '@ilkkun/sqs';
import { Consumer } from 'sqs-consumer';

const EMULATOR_URL = process.env['ILKKUN_SQS_URL'] ?? 'sqs://127.0.0.1:4566?region=us-east-1&tls=false';
const LATENCY_MS = Math.min(200, Number(process.env['BENCH_LATENCY_MS'] ?? 0));
const JOBS = Math.min(100_000, Number(process.env['BENCH_JOBS'] ?? 5000));
const LEVELS = (process.env['BENCH_LEVELS'] ?? '16,64').split(',').map(Number);
/** rounds per concurrency; each round runs raw, sqs-consumer and ilkkun back to back; medians reported */
const ROUNDS = Math.min(9, Number(process.env['BENCH_ROUNDS'] ?? 3));
/** `ilkkun` to run only the ilkkun phases (profiling) */
const ONLY = process.env['BENCH_ONLY'];
const prefix = `ilkbench${randomBytes(3).toString('hex')}`;
const payload = { to: 'user@example.com', subject: 'hello', body: 'x'.repeat(40), n: 0 };

const emulator = parseSqsUrl(EMULATOR_URL);
if (!emulator.endpoint || !['127.0.0.1', 'localhost', '::1'].includes(emulator.host)) {
  throw new Error(`the bench runs only against a loopback emulator, not ${emulator.endpoint ?? 'AWS'}`);
}

/** A loopback TCP proxy adding `oneWayMs` to each direction (order kept: equal timers fire in order). */
async function latencyProxy(targetPort: number, oneWayMs: number): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), oneWayMs));
      from.on('end', () => setTimeout(() => to.end(), oneWayMs));
      from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

const proxy =
  LATENCY_MS > 0
    ? await latencyProxy(Number(new URL(emulator.endpoint).port || 80), LATENCY_MS / 2)
    : undefined;
const BASE_URL = proxy ? EMULATOR_URL.replace(/:\/\/[^/?]+/, `://127.0.0.1:${proxy.port}`) : EMULATOR_URL;
const url = `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}prefix=${prefix}`;
const target = parseSqsUrl(BASE_URL);
process.env['AWS_ACCESS_KEY_ID'] ??= 'test';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'test';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const raw = new SQSClient({
  endpoint: target.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  useQueueUrlAsEndpoint: false,
  requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } },
});

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function rawQueue(label: string): Promise<string> {
  const out = await raw.send(new CreateQueueCommand({ QueueName: `${prefix}-raw-${label}` }));
  return out.QueueUrl!;
}

async function rawFill(queueUrl: string, n: number): Promise<void> {
  const body = JSON.stringify(payload);
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({
      Id: String(k),
      MessageBody: body,
    }));
    sends.push(raw.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
    if (sends.length >= 16) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
}

/** ceil(c/10) loops of Receive(10, long poll 1 s) → JSON.parse → DeleteMessageBatch. */
async function rawLoop(queueUrl: string, n: number, concurrency: number): Promise<number> {
  let done = 0;
  let doneAt = 0;
  const t0 = performance.now();
  const loop = async () => {
    while (done < n) {
      const r = await raw.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const messages = r.Messages ?? [];
      if (messages.length === 0) continue;
      for (const m of messages) JSON.parse(m.Body ?? 'null');
      await raw.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      done += messages.length;
      // the clock stops at the last delete, not when idle loops' last long polls return
      if (done >= n && doneAt === 0) doneAt = performance.now();
    }
  };
  await Promise.all(Array.from({ length: Math.ceil(concurrency / 10) }, loop));
  return doneAt - t0;
}

/** sqs-consumer as its README shows it: handleMessage, batchSize 10; one consumer per 10 slots. */
async function consumerRun(queueUrl: string, n: number, concurrency: number): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumers = Array.from({ length: Math.ceil(concurrency / 10) }, () =>
    Consumer.create({
      queueUrl,
      sqs: raw,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      handleMessage: async (m) => {
        JSON.parse(m.Body ?? 'null');
        if (++done >= n) finish();
        return m;
      },
    }),
  );
  for (const c of consumers) c.on('error', () => undefined);
  for (const c of consumers) c.start();
  await finished;
  const ms = performance.now() - t0;
  for (const c of consumers) c.stop();
  return ms;
}

async function ilkkunRun(backend: Backend, queue: string, n: number, concurrency: number): Promise<number> {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const runner = createRunner({
    backend,
    handlers: { [queue]: async () => undefined },
    global: { concurrency, waitMs: 1000, idleDelayMs: 0 },
  });
  runner.on('job:complete', () => {
    if (++done >= n) finish();
  });
  const t0 = performance.now();
  await runner.start();
  await finished;
  const ms = performance.now() - t0;
  await runner.stop();
  // every job done exactly once: nothing left in any state
  const left = await backend.inspector!.counts(queue);
  if (left.waiting + left.active + left.delayed + left.dead !== 0 || done !== n) {
    throw new Error(`bench: ${queue} not drained exactly: ${JSON.stringify(left)}, completed ${done}`);
  }
  return ms;
}

async function pickup(
  backend: Backend,
  producer: Backend,
  queue: string,
  samples: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const popping = backend.pop([queue], { max: 1, waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await producer.push([{ queue, payload: '1', priority: 0, runAt: new Date(), maxAttempts: 1 }]);
    const [job] = await popping;
    out.push(performance.now() - t0);
    if (job) await backend.ack(job);
  }
  return out.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const backend = await createBackend(url);
  const producer = await createBackend(url);
  const client = new Client(producer);
  console.log(
    `SQS backend quick bench on ${emulator.endpoint}${proxy ? ` through a proxy adding ${LATENCY_MS} ms per round trip` : ''}: ${fmt(JOBS)} jobs per phase, no-op handler\n`,
  );
  const rows: string[] = [];
  try {
    // untimed warm-up of both paths (JIT, sockets, queue creation)
    const qAdd = 'bench.add';
    await client.addMany(
      Array.from({ length: 1000 }, (_, k) => ({ queue: qAdd, payload: { ...payload, n: k } })),
    );
    await backend.inspector!.purge(qAdd);
    const rawAddUrl = await rawQueue('add');
    await rawFill(rawAddUrl, 1000);
    await raw.send(new PurgeQueueCommand({ QueueUrl: rawAddUrl }));
    // bulk enqueue
    let t0 = performance.now();
    for (let i = 0; i < JOBS; i += 1000) {
      await client.addMany(
        Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
          queue: qAdd,
          payload: { ...payload, n: i + k },
        })),
      );
    }
    const addRate = perSec(JOBS, performance.now() - t0);
    t0 = performance.now();
    await rawFill(rawAddUrl, JOBS);
    const rawAddRate = perSec(JOBS, performance.now() - t0);
    rows.push(
      `| enqueue, addMany(1000) vs raw SendMessageBatch ×16 | ${fmt(addRate)}/s | raw ${fmt(rawAddRate)}/s | ${(addRate / rawAddRate).toFixed(2)}× raw |`,
    );

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    for (const c of LEVELS) {
      const ilk: number[] = [];
      const cons: number[] = [];
      const rawRates: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (ONLY !== 'ilkkun') {
          const rawUrl = await rawQueue(`c${c}r${round}`);
          await rawFill(rawUrl, JOBS);
          rawRates.push(perSec(JOBS, await rawLoop(rawUrl, JOBS, c)));
          const consUrl = await rawQueue(`cons${c}r${round}`);
          await rawFill(consUrl, JOBS);
          cons.push(perSec(JOBS, await consumerRun(consUrl, JOBS, c)));
        }
        const q = `bench.c${c}.r${round}`;
        for (let i = 0; i < JOBS; i += 1000) {
          await client.addMany(
            Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
              queue: q,
              payload: { ...payload, n: i + k },
            })),
          );
        }
        ilk.push(perSec(JOBS, await ilkkunRun(backend, q, JOBS, c)));
      }
      const [i, k, r] = [median(ilk), median(cons), median(rawRates)];
      rows.push(
        `| process c=${c}: ilkkun runner (median of ${ROUNDS}: ${ilk.map(fmt).join(', ')}) | ${fmt(i)}/s | sqs-consumer ${fmt(k)}/s (${cons.map(fmt).join(', ')}), raw loop ${fmt(r)}/s (${rawRates.map(fmt).join(', ')}) | ${k ? (i / k).toFixed(2) : '-'}× sqs-consumer, ${r ? Math.round((i / r) * 100) : '-'}% of raw |`,
      );
    }
    const lat = await pickup(backend, producer, 'bench.pickup', 100);
    const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(1);
    rows.push(
      `| pickup latency, waiting pop ← push from another instance (100 samples) | p50 ${p(0.5)} ms | p99 ${p(0.99)} ms | |`,
    );
  } finally {
    await backend.close();
    await producer.close();
    const urls = (await raw.send(new ListQueuesCommand({ QueueNamePrefix: `${prefix}-`, MaxResults: 1000 })))
      .QueueUrls;
    for (const u of urls ?? []) await raw.send(new DeleteQueueCommand({ QueueUrl: u }));
    raw.destroy();
    proxy?.server.close();
  }
  console.log('| what | ilkkun | rivals (same fauxqs, same run) | ratio |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
