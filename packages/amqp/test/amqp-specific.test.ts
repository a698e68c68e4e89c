import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, hasErrorCode, LEASE_EXPIRED_MESSAGE, type LeasedJobRecord } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import type { Channel, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS } from '../src/delay-buckets.js';
import type { AmqpBackend } from '../src/index.js';
import {
  AMQP_URL,
  delay,
  deleteTestQueues,
  eventually,
  openTracked,
  rawConnection,
  testPrefix,
  withParams,
} from './helpers.js';
import { TcpProxy } from './proxy.js';

const prefix = testPrefix('spec');
const url = withParams(AMQP_URL, { prefix });
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
let seq = 0;
const queue = (label: string) => `${label}.${++seq}`;

let backend: AmqpBackend;
let client: Client;
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  backend = await openTracked(url);
  client = new Client(backend);
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await deleteTestQueues();
}, 60_000);

/** Ready messages in a broker queue, asked on a connection of its own. */
async function brokerCount(name: string): Promise<number> {
  const conn = await rawConnection();
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    return (await ch.checkQueue(name)).messageCount;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Run a fixture as its own process; resolves with its exit code and the JSON lines it printed. */
function runChild(
  name: string,
  args: string[],
  onLine?: (msg: Record<string, unknown>) => void,
): {
  done: Promise<{ code: number | null; lines: Array<Record<string, unknown>> }>;
  kill: (s: NodeJS.Signals) => void;
} {
  const child = spawn(process.execPath, [fixture(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let i = out.indexOf('\n');
    while (i >= 0) {
      const msg = JSON.parse(out.slice(0, i)) as Record<string, unknown>;
      lines.push(msg);
      onLine?.(msg);
      out = out.slice(i + 1);
      i = out.indexOf('\n');
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; lines: Array<Record<string, unknown>> }>((resolve) =>
    child.on('exit', (code) => {
      if (err && code !== 0 && code !== 3 && code !== null) console.error(err);
      resolve({ code, lines });
    }),
  );
  return { done, kill: (s) => child.kill(s) };
}

describe('priorities (classic queue, x-max-priority 20)', () => {
  it('hands out −10…+10 in exact order, clamps beyond, FIFO within a level', async () => {
    const q = queue('prio');
    const priorities = [0, -10, 10, 3, -3, 9, -9, 1, -1, 0];
    const items = priorities.map((priority, i) => ({ queue: q, payload: { i, priority }, priority }));
    // beyond the ends: +50 runs like +10 (after it, FIFO), −50 like −10
    items.push({ queue: q, payload: { i: 10, priority: 50 }, priority: 50 });
    items.push({ queue: q, payload: { i: 11, priority: -50 }, priority: -50 });
    await client.addMany(items);
    const order: number[] = [];
    for (let k = 0; k < items.length; k++) {
      const [job] = await backend.pop([q], { max: 1 });
      order.push((JSON.parse(job!.payload) as { i: number }).i);
      expect(job!.priority).toBe(items[order.at(-1)!]!.priority); // the original value comes back
      await backend.ack(job!);
    }
    expect(order).toEqual([2, 10, 5, 3, 7, 0, 9, 8, 4, 6, 1, 11]);
  });

  it('is off for maxPriority=0 (a plain, faster queue) and says so in capabilities', async () => {
    const plain = await openTracked(withParams(url, { maxPriority: 0 }));
    expect(plain.capabilities.priorities).toBe(false);
    const q = queue('plain');
    await new Client(plain).addMany([
      { queue: q, payload: 'first', priority: -5 },
      { queue: q, payload: 'second', priority: 5 },
    ]);
    const jobs = await plain.pop([q], { max: 2 });
    expect(jobs.map((j) => JSON.parse(j.payload))).toEqual(['first', 'second']);
    await plain.ackMany(jobs);
  });
});

describe('delays through TTL wait queues', () => {
  it('never hands a delayed job out early, and keeps the number of wait queues bounded', async () => {
    const q = queue('delays');
    const delays = [50, 120, 333, 600, 777, 1000, 1500, 2100];
    const added = await client.addMany(delays.map((d, i) => ({ queue: q, payload: i, delay: d })));
    const runAtById = new Map<string, number>();
    const start = Date.now();
    for (const [i, r] of added.entries()) runAtById.set(r.id, start + delays[i]!);
    const seen: Array<{ id: string; at: number; runAt: number }> = [];
    const deadline = Date.now() + 15_000;
    while (seen.length < delays.length && Date.now() < deadline) {
      const jobs = await backend.pop([q], { max: 8, waitMs: 500 });
      for (const j of jobs) {
        seen.push({ id: j.id, at: Date.now(), runAt: j.runAt.getTime() });
        await backend.ack(j);
      }
    }
    expect(seen).toHaveLength(delays.length);
    for (const s of seen) expect(s.at).toBeGreaterThanOrEqual(s.runAt);

    // many distinct delays (1 min … 1 h) still use at most one wait queue per power of two
    const many = queue('many-delays');
    await client.addMany(
      Array.from({ length: 300 }, (_, i) => ({ queue: many, payload: i, delay: 60_000 + i * 12_000 })),
    );
    const waits = backend.declaredQueues().filter((n) => n.startsWith(`${prefix}/${many}/wait/`));
    expect(waits.length).toBeGreaterThan(1);
    expect(waits.length).toBeLessThanOrEqual(8); // 1 min … 1 h: first hops of 2^15 … 2^22 ms
    expect(waits.length).toBeLessThanOrEqual(BUCKETS.length);
    expect((await backend.inspector.counts(many)).delayed).toBe(300);
    expect(await backend.inspector.deleteJobs(many, 'delayed')).toBe(300);
  });

  it('retry backoff goes through the wait queues too (requeue with runAt)', async () => {
    const q = queue('backoff');
    await client.add(q, 'flaky', { attempts: 3 });
    const [job] = await backend.pop([q], { max: 1 });
    const runAt = Date.now() + 300;
    await backend.requeue(job!, {
      runAt: new Date(runAt),
      error: { message: 'boom', attempt: 1, at: new Date() },
    });
    expect((await backend.inspector.counts(q)).delayed).toBe(1);
    const [again] = await backend.pop([q], { max: 1, waitMs: 5000 });
    expect(Date.now()).toBeGreaterThanOrEqual(runAt);
    expect(again).toMatchObject({ id: job!.id, attemptsMade: 2, lastError: { message: 'boom' } });
    await backend.ack(again!);
  });
});

describe('publisher confirms and prefetch', () => {
  it('a push resolves only once the broker has every job of the batch', async () => {
    const q = queue('confirms');
    await client.addMany(Array.from({ length: 500 }, (_, i) => ({ queue: q, payload: i })));
    // asked on another connection right after: all 500 are there, none in flight
    expect(await brokerCount(`${prefix}/${q}`)).toBe(500);
    expect(await backend.inspector.purge(q)).toBe(500);
  });

  it('a process holds only what it asked for: a busy worker is skipped (prefetch = free slots)', async () => {
    const q = queue('qos');
    const worker = await openTracked(url);
    await client.add(q, 'first');
    const [held] = await worker.pop([q], { max: 1, waitMs: 2000 });
    expect(held).toBeDefined();
    await client.addMany([1, 2, 3, 4].map((payload) => ({ queue: q, payload })));
    await delay(100);
    // nothing was pushed ahead to the busy worker: all four are still ready at the broker
    expect(await brokerCount(`${prefix}/${q}`)).toBe(4);
    const other = await openTracked(url);
    // deliveries stream in: a waiting pop returns with the first, so collect until all four
    const got: Awaited<ReturnType<typeof other.pop>> = [];
    await eventually(
      async () => {
        got.push(...(await other.pop([q], { max: 4 - got.length, waitMs: 500 })));
        return got.length >= 4;
      },
      10_000,
      'all four jobs at the other worker',
    );
    expect(got).toHaveLength(4);
    await other.ackMany(got);
    await worker.ack(held!);
  });

  it('a JSON message published by any AMQP client into the work queue is a job', async () => {
    const q = queue('foreign');
    await backend.pop([q], { max: 1 }); // declares the queue
    const conn = await rawConnection();
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(`${prefix}/${q}`, Buffer.from('{"hello":"world"}'), {
      persistent: true,
      messageId: 'ext-1',
    });
    await ch.waitForConfirms();
    await conn.close();
    const [job] = await backend.pop([q], { max: 1, waitMs: 2000 });
    expect(job).toMatchObject({ id: 'ext-1', payload: '{"hello":"world"}', attemptsMade: 1, maxAttempts: 3 });
    await backend.ack(job!);
  });
});

describe('crashes and poison jobs', () => {
  for (const queueType of ['classic', 'quorum'] as const) {
    it(`a job that kills its worker every time ends in dead after maxAttempts (${queueType})`, async () => {
      const u = withParams(url, { prefix: `${prefix}-${queueType}`, queueType });
      const b = await openTracked(u);
      const q = queue('poison');
      const { id } = await new Client(b).add(q, { poison: true }, { attempts: 3 });
      const attempts: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const { code, lines } = await runChild('crash-worker.mjs', [u, q]).done;
        expect(code).toBe(3);
        expect(lines[0]?.['id']).toBe(id);
        attempts.push(lines[0]?.['attemptsMade']);
        if (i > 0) expect(lines[0]?.['lastError']).toBe(LEASE_EXPIRED_MESSAGE);
      }
      expect(attempts).toEqual([1, 2, 3]);
      // the 4th receiver counts the 3rd crash, finds the attempts used up, and buries the job
      expect(await b.pop([q], { max: 1, waitMs: 500 })).toEqual([]);
      await eventually(async () => (await b.inspector.counts(q)).dead === 1, 10_000, 'job in dead');
      expect((await b.inspector.counts(q)).waiting).toBe(0);
      // and it can be brought back with a fresh budget
      expect(await b.inspector.retryDead(q)).toBe(1);
      const [back] = await b.pop([q], { max: 1, waitMs: 2000 });
      expect(back).toMatchObject({ id, attemptsMade: 1 });
      await b.ack(back!);
    }, 60_000);
  }

  it('an ack followed at once by process.exit() is not lost (writes are batched, then flushed)', async () => {
    const q = queue('ack-exit');
    const { id } = await client.add(q, 'x');
    const { code, lines } = await runChild('ack-and-exit.mjs', [url, q]).done;
    expect(code).toBe(0);
    expect(lines[0]?.['acked']).toBe(id);
    expect(await backend.pop([q], { max: 1, waitMs: 1000 })).toEqual([]);
    expect((await backend.inspector.counts(q)).waiting).toBe(0);
  });

  it("quorum queues: the broker's delivery limit buries a message that keeps coming back", async () => {
    const u = withParams(url, { prefix: `${prefix}-qlimit`, queueType: 'quorum', deliveryLimit: 2 });
    const b = await openTracked(u);
    const q = queue('limit');
    await new Client(b).add(q, 'x', { attempts: 100 });
    // a raw consumer that always returns it (nack + requeue) without ilkkun's own counting
    const conn = await rawConnection();
    const ch = await conn.createChannel();
    await ch.prefetch(1);
    let deliveries = 0;
    await ch.consume(`${prefix}-qlimit/${q}`, (msg) => {
      if (!msg) return;
      deliveries++;
      ch.nack(msg, false, true);
    });
    await eventually(
      async () => (await b.inspector.counts(q)).dead === 1,
      10_000,
      'dead-lettered by the broker',
    );
    expect(deliveries).toBe(3);
    await conn.close();
  });
});

describe('connection loss', () => {
  it('pushes during an outage fail loudly (retryable) and work again once the broker is back', async () => {
    const proxy = await TcpProxy.start();
    proxies.push(proxy);
    const b = await openTracked(withParams(proxy.url(url), { publishTimeoutMs: 1500 }));
    const c = new Client(b);
    const q = queue('outage');
    await c.add(q, 'before');
    proxy.outage();
    const err = await c.add(q, 'during').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(err, 'BACKEND_UNAVAILABLE'), String(err)).toBe(true);
    expect((err as { retryable?: boolean }).retryable).toBe(true);
    expect(String(err)).not.toContain('guest:guest');
    proxy.restore();
    await eventually(() => b.conn.state === 'up', 15_000, 'reconnect');
    await c.add(q, 'after');
    const jobs = await b.pop([q], { max: 10, waitMs: 2000 });
    const more = await b.pop([q], { max: 10, waitMs: 500 });
    expect([...jobs, ...more].map((j) => JSON.parse(j.payload)).sort()).toEqual(['after', 'before']);
    await b.ackMany([...jobs, ...more]);
  });

  it('a push waits out a short cut and is confirmed after the reconnect', async () => {
    const proxy = await TcpProxy.start();
    proxies.push(proxy);
    const b = await openTracked(proxy.url(url));
    const q = queue('blip');
    proxy.outage();
    const pushing = new Client(b).add(q, 'x');
    setTimeout(() => proxy.restore(), 300);
    await pushing;
    expect(await brokerCount(`${prefix}/${q}`)).toBe(1);
    await backend.inspector.purge(q);
  });

  it('cutting the connection mid-run loses nothing: every pushed job is processed, leases of the cut channel are lost', async () => {
    const proxy = await TcpProxy.start();
    proxies.push(proxy);
    const worker = await openTracked(proxy.url(url));
    const q = queue('cut');
    const total = 600;
    const pushed = new Set<string>();
    const done = new Map<string, number>();
    const leaseLost: string[] = [];
    const runner = createRunner({
      backend: worker,
      handlers: {
        [q]: async (job) => {
          await delay(2);
          done.set(job.id, (done.get(job.id) ?? 0) + 1);
        },
      },
      global: { concurrency: 8, waitMs: 500, leaseMs: 30_000 },
    });
    runner.on('lease:lost', ({ job }) => leaseLost.push(job.id));
    runner.on('error', () => undefined); // pops and acks during the cut fail; the runner retries
    await runner.start();
    // the producer is on its own connection (a web app, say); it retries pushes that failed
    for (let i = 0; i < total; i += 20) {
      const batch = Array.from({ length: 20 }, (_, k) => ({ queue: q, payload: i + k }));
      const results = await client.addMany(batch);
      for (const r of results) pushed.add(r.id);
      if (i === 200 || i === 400) proxy.cut(); // twice, while jobs are in flight
      await delay(5);
    }
    await eventually(() => [...pushed].every((id) => done.has(id)), 30_000, 'every job processed');
    await runner.stop({ graceMs: 2000 });
    expect([...pushed].filter((id) => !done.has(id))).toEqual([]);
    // duplicates are possible only for jobs whose lease was cut (at-least-once), never more
    const twice = [...done.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.length).toBeLessThanOrEqual(leaseLost.length + 16);
    expect(await backend.pop([q], { max: 10, waitMs: 300 })).toEqual([]);
  }, 60_000);

  it('a socket destroyed without an AMQP goodbye (a killed peer) reconnects, re-declares and resumes consuming', async () => {
    const b = await openTracked(url);
    const q = queue('forced');
    const popping = b.pop([q], { max: 1, waitMs: 10_000 });
    await delay(200);
    b.conn.cutForTesting();
    await eventually(() => b.conn.state === 'up' && b.conn.generation > 1, 15_000, 'reconnect');
    await client.add(q, 'after the cut');
    const jobs = await popping;
    expect(jobs.map((j) => JSON.parse(j.payload))).toEqual(['after the cut']);
    await b.ack(jobs[0]!);
  });

  it('a channel closed by the broker (connection still up) fences its leases, and pops resume on a new one', async () => {
    const b = await openTracked(url);
    const q = queue('channel-loss');
    const ids = (await client.addMany([1, 2].map((payload) => ({ queue: q, payload, attempts: 5 })))).map(
      (r) => r.id,
    );
    const [held] = await b.pop([q], { max: 1, waitMs: 2000 });
    // An ack of an unknown delivery tag is a channel error (406): the broker closes that channel
    // only — as it does when consumer_timeout fires.
    let channel: Channel | undefined;
    b.leases.countWhere((l) => {
      channel = l.held.slot.ch;
      return false;
    });
    channel!.ack({ fields: { deliveryTag: 999_999 } } as Message);
    await eventually(() => b.leases.size === 0, 10_000, 'lease fenced');
    await expect(b.ack(held!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const got: LeasedJobRecord[] = [];
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) got.push(...(await b.pop([q], { max: 2, waitMs: 500 })));
    expect(got.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(got.find((j) => j.id === held!.id)).toMatchObject({
      attemptsMade: 2,
      lastError: { message: LEASE_EXPIRED_MESSAGE },
    });
    expect(b.conn.generation).toBe(1);
    await b.ackMany(got);
  });

  it('a job held when the connection dies comes back with the attempt counted; the old lease is lost', async () => {
    const proxy = await TcpProxy.start();
    proxies.push(proxy);
    const b = await openTracked(proxy.url(url));
    const q = queue('held');
    const { id } = await client.add(q, 'x', { attempts: 5 });
    const [job] = await b.pop([q], { max: 1, waitMs: 2000 });
    proxy.cut();
    await eventually(() => b.conn.generation > 1 && b.conn.state === 'up', 15_000, 'reconnect');
    await expect(b.ack(job!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const [again] = await backend.pop([q], { max: 1, waitMs: 5000 });
    expect(again).toMatchObject({ id, attemptsMade: 2, lastError: { message: LEASE_EXPIRED_MESSAGE } });
    await backend.ack(again!);
  });
});

describe('an ack counts only once the broker has it', () => {
  // basic.ack has no reply: an ack that resolved while still in this process (or its socket)
  // was lost to a SIGKILL a moment later, and the job completed twice (issue 13, ilkkun chaos).
  it('an ack that resolved survives a SIGKILL right after: the job does not come back', async () => {
    const q = queue('ack-kill');
    await client.add(q, 'x', { attempts: 5 });
    const { code } = await runChild('ack-and-kill.mjs', [url, q]).done;
    expect(code).toBeNull(); // killed by the signal, after its ack resolved
    // the broker requeues a dead connection's unacked deliveries at once: a lost ack shows here
    expect(await backend.pop([q], { max: 1, waitMs: 3000 })).toEqual([]);
  });

  it('an ack the broker cannot have yet stays pending; when the connection dies it fails (retryable), sent again it is LEASE_LOST, and the job comes back', async () => {
    const proxy = await TcpProxy.start();
    proxies.push(proxy);
    const b = await openTracked(proxy.url(url));
    const q = queue('ack-held');
    const { id } = await client.add(q, 'x', { attempts: 5 });
    const [job] = await b.pop([q], { max: 1, waitMs: 2000 });
    proxy.holdToBroker(); // from here nothing this worker writes reaches the broker
    let outcome: unknown = 'pending';
    const acking = b.ack(job!).then(
      () => 'acked',
      (err: unknown) => err,
    );
    void acking.then((o) => {
      outcome = o;
    });
    await delay(300); // many event-loop turns: an ack that does not wait for the broker has resolved by now
    expect(outcome).toBe('pending');
    // the runner keeps renewing a lease until its ack is confirmed: that must still work
    await expect(b.extend(job!, 60_000)).resolves.toBeInstanceOf(Date);
    proxy.cut();
    const err = await acking;
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    // the runner sends a failed ack again: the broker never had it, so it is not a success
    await expect(b.ack(job!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const [again] = await backend.pop([q], { max: 1, waitMs: 5000 });
    expect(again).toMatchObject({ id, attemptsMade: 2, lastError: { message: LEASE_EXPIRED_MESSAGE } });
    await backend.ack(again!);
  });

  it('a batch with an unconfirmed ack fails as a whole; sent again, each ack answers its true outcome', async () => {
    const b = await openTracked(url);
    const [qa, qb] = [queue('ack-mixed-a'), queue('ack-mixed-b')];
    await client.add(qa, 'a', { attempts: 5 });
    const { id: idB } = await client.add(qb, 'b', { attempts: 5 });
    // two pop shapes: two subscriptions, each on a channel of its own
    const [jobA] = await b.pop([qa], { max: 1, waitMs: 2000 });
    const [jobB] = await b.pop([qb], { max: 1, waitMs: 2000 });
    let channelB: Channel | undefined;
    b.leases.countWhere((l) => {
      if (l.jobId === jobB!.id) channelB = l.held.slot.ch;
      return false;
    });
    expect(channelB).toBeDefined();
    // An ack of an unknown delivery tag is a channel error: the broker closes B's channel on
    // reading it, so B's ack written right after is never processed (A's channel is unharmed).
    channelB!.ack({ fields: { deliveryTag: 999_999 } } as Message);
    await expect(b.ackMany([jobA!, jobB!])).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const again = await b.ackMany([jobA!, jobB!]);
    expect(again[0]).toBeNull(); // confirmed on A's channel: acked, not a lost lease
    expect(again[1]).toMatchObject({ code: 'LEASE_LOST' });
    const [backB] = await b.pop([qb], { max: 1, waitMs: 5000 });
    expect(backB).toMatchObject({ id: idB, attemptsMade: 2 });
    await b.ack(backB!);
    await b.close(); // anything still unacked goes back to its queue
    expect(await brokerCount(`${prefix}/${qa}`)).toBe(0);
  });
});

describe('quorum queues', () => {
  it('announce no priorities, and run pushes, delays, requeues and dead jobs', async () => {
    const b = await openTracked(withParams(url, { prefix: `${prefix}-quorum`, queueType: 'quorum' }));
    expect(b.capabilities.priorities).toBe(false);
    const c = new Client(b);
    const q = queue('quorum');
    await c.addMany([
      { queue: q, payload: 'a' },
      { queue: q, payload: 'later', delay: 300 },
      { queue: q, payload: 'b' },
    ]);
    const first = await b.pop([q], { max: 5 });
    expect(first.map((j) => JSON.parse(j.payload))).toEqual(['a', 'b']);
    await b.requeue(first[0]!, { dead: true, error: { message: 'no', attempt: 1, at: new Date() } });
    await b.requeue(first[1]!, { release: true });
    const rest: LeasedJobRecord[] = [];
    const deadline = Date.now() + 10_000;
    while (rest.length < 2 && Date.now() < deadline)
      rest.push(...(await b.pop([q], { max: 5, waitMs: 500 })));
    expect(rest.map((j) => JSON.parse(j.payload)).sort()).toEqual(['b', 'later']);
    expect(rest.find((j) => JSON.parse(j.payload) === 'b')?.attemptsMade).toBe(1);
    await b.ackMany(rest);
    expect(await b.inspector.counts(q)).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 1 });
  });
});

describe('with @ilkkun/runner', () => {
  it('graceful shutdown releases unfinished jobs without using up an attempt', async () => {
    const q = queue('runner-stop');
    const ids = (await client.addMany([1, 2].map((payload) => ({ queue: q, payload })))).map((r) => r.id);
    const started: string[] = [];
    const runner = createRunner({
      backend,
      handlers: {
        [q]: (job) => {
          started.push(job.id);
          return delay(3000);
        },
      },
      global: { concurrency: 2, waitMs: 500 },
    });
    const released: string[] = [];
    runner.on('job:release', ({ job }) => released.push(job.id));
    await runner.start();
    await eventually(() => started.length === 2, 10_000, 'both started');
    await runner.stop({ graceMs: 100 });
    expect(released.sort()).toEqual([...ids].sort());
    // the two released jobs are republished separately: one pop may see only the first
    const back: Awaited<ReturnType<typeof backend.pop>> = [];
    await eventually(
      async () => {
        back.push(...(await backend.pop([q], { max: 5, waitMs: 500 })));
        return back.length >= 2;
      },
      10_000,
      'both released jobs back',
    );
    expect(back.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(back.map((j) => j.attemptsMade)).toEqual([1, 1]);
    await backend.ackMany(back);
  });

  it('a runner killed mid-job (SIGKILL): its jobs come back with the attempt counted', async () => {
    const q = queue('runner-crash');
    const { id } = await client.add(q, 'long', { attempts: 3 });
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const child = runChild('runner-child.mjs', [url, q, 'hang'], (msg) => {
      if (msg['started'] === id) started();
    });
    await running;
    child.kill('SIGKILL');
    await child.done;
    const [again] = await backend.pop([q], { max: 1, waitMs: 5000 });
    expect(again).toMatchObject({ id, attemptsMade: 2, lastError: { message: LEASE_EXPIRED_MESSAGE } });
    await backend.ack(again!);
  }, 30_000);

  it('a runner stopped by SIGTERM hands its job back unattempted and exits 0', async () => {
    const q = queue('runner-sigterm');
    const { id } = await client.add(q, 'long');
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const child = runChild('runner-child.mjs', [url, q, 'finish-on-abort'], (msg) => {
      if (msg['started'] === id) started();
    });
    await running;
    child.kill('SIGTERM');
    const { code } = await child.done;
    expect(code).toBe(0);
    const [again] = await backend.pop([q], { max: 1, waitMs: 5000 });
    expect(again).toMatchObject({ id, attemptsMade: 1 });
    await backend.ack(again!);
    // exactly once: the released copy, not also the original (its ack left before the exit)
    expect(await backend.pop([q], { max: 1, waitMs: 1000 })).toEqual([]);
  }, 30_000);
});
