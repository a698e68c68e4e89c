import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Backend } from '@ilkkun/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/index.js';
import {
  commandCalls,
  deletePrefix,
  keysOf,
  REDIS_URL,
  rawClient,
  startRedisServer,
  type TestServer,
  testPrefix,
  withParams,
} from './helpers.js';

const run = promisify(execFile);

/** The hash tag Redis Cluster hashes: the part between the first `{` and the next `}`, if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const job = (
  queue: string,
  payload: unknown,
  extra: { priority?: number; runAt?: Date; uniqueKey?: string } = {},
) => ({
  queue,
  payload: JSON.stringify(payload),
  priority: extra.priority ?? 0,
  runAt: extra.runAt ?? new Date(),
  maxAttempts: 3,
  ...(extra.uniqueKey ? { uniqueKey: extra.uniqueKey } : {}),
});

describe('redis backend on the shared server', () => {
  const prefix = testPrefix('spec');
  const otherPrefix = testPrefix('spec-other');
  const url = withParams(REDIS_URL, { prefix, keepCompleted: 10, keepDead: 3 });
  let backend: Backend;
  let raw: Redis;

  beforeAll(async () => {
    backend = await createBackend(url);
    raw = rawClient(REDIS_URL);
  });
  afterAll(async () => {
    await backend.close();
    raw.disconnect();
    await deletePrefix(REDIS_URL, prefix);
    await deletePrefix(REDIS_URL, otherPrefix);
  });

  test('every key of a queue shares the {queue} hash tag (Redis Cluster: one slot per queue)', async () => {
    const a = 'layout-a';
    const b = 'MyApp::Worker::Notify';
    await backend.push([
      job(a, 1),
      job(a, 2, { uniqueKey: 'k' }),
      job(a, 3, { runAt: new Date(Date.now() + 60_000) }),
      job(a, 6, { uniqueKey: 'k2' }),
      job(b, 4),
      job(b, 5),
    ]);
    const [x, y] = await backend.pop([a], { max: 2, leaseMs: 60_000 });
    await backend.ack(x!); // kept as completed (keepCompleted=10)
    await backend.requeue(y!, { dead: true });
    await backend.pop([b], { max: 1, leaseMs: 60_000 }); // one active in b
    const keys = await keysOf(raw, prefix);
    const tags = new Map<string, string[]>();
    for (const key of keys) {
      if (key === `${prefix}:queues`) continue; // the registry belongs to no queue
      expect(key.startsWith(`${prefix}:{`)).toBe(true);
      const tag = hashTag(key);
      tags.set(tag, [...(tags.get(tag) ?? []), key]);
    }
    expect([...tags.keys()].sort()).toEqual([a, b].sort());
    // `calls:<instance>`: this backend instance's recent ack/requeue answers (calls.ts)
    const suffixes = (tag: string) =>
      tags.get(tag)!.map((k) => k.slice(`${prefix}:{${tag}}:`.length).replace(/^calls:[0-9a-f]+$/, 'calls'));
    const columns = ['head', 'body', 'att'];
    expect(new Set(suffixes(a))).toEqual(
      new Set(['id', 'wait', 'delay', 'done', 'dead', 'unique', 'owner', 'mark', 'calls', ...columns]),
    );
    expect(new Set(suffixes(b))).toEqual(new Set(['id', 'wait', 'active', 'mark', ...columns]));
    await backend.inspector!.purge(a);
    await backend.inspector!.purge(b);
    // a purged queue leaves no key behind
    expect((await keysOf(raw, prefix)).filter((k) => k !== `${prefix}:queues`)).toEqual([]);
  });

  test('two prefixes on one Redis do not see each other', async () => {
    const other = await createBackend(withParams(REDIS_URL, { prefix: otherPrefix }));
    try {
      const q = 'shared-name';
      const [mine] = await backend.push([job(q, 'mine', { uniqueKey: 'same' })]);
      expect(await other.pop([q], { max: 10 })).toEqual([]);
      expect((await other.inspector!.counts(q)).waiting).toBe(0);
      expect(await other.inspector!.queues()).not.toContain(q);
      const [theirs] = await other.push([job(q, 'theirs', { uniqueKey: 'same' })]);
      expect(theirs!.duplicate).toBe(false); // unique keys are per prefix too
      const got = await backend.pop([q], { max: 10, leaseMs: 60_000 });
      expect(got.map((j) => j.id)).toEqual([mine!.id]);
      expect(JSON.parse(got[0]!.payload)).toBe('mine');
      await backend.ack(got[0]!);
      await other.inspector!.purge(q);
    } finally {
      await other.close();
    }
  });

  test('retention keeps the newest completed and dead jobs up to the configured counts', async () => {
    const q = 'retention';
    await backend.push(Array.from({ length: 15 }, (_, i) => job(q, i)));
    const done = await backend.pop([q], { max: 12, leaseMs: 60_000 });
    for (const j of done) await backend.ack(j); // one by one: completion order = pop order
    const dying = await backend.pop([q], { max: 3, leaseMs: 60_000 });
    for (const j of dying) await backend.requeue(j, { dead: true });
    const counts = await backend.inspector!.counts(q);
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 10, dead: 3 });
    const completed = await backend.inspector!.list(q, 'completed', { limit: 3 });
    expect(completed.map((j) => j.id)).toEqual([done[11]!.id, done[10]!.id, done[9]!.id]);
    expect(completed.every((j) => j.state === 'completed')).toBe(true);
    // the first two completed were trimmed, their hashes too
    expect(await backend.inspector!.getJob(q, done[0]!.id)).toBeUndefined();
    await backend.push([job(q, 'one more')]);
    const [last] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    await backend.requeue(last!, { dead: true });
    expect((await backend.inspector!.counts(q)).dead).toBe(3);
    await backend.inspector!.purge(q);
  });

  test('a uniqueKey freed by lease-expiry death; retryDead leaves a job dead whose key was taken meanwhile', async () => {
    const q = 'unique-expiry';
    const [first] = await backend.push([{ ...job(q, 'a', { uniqueKey: 'u' }), maxAttempts: 1 }]);
    await backend.pop([q], { max: 1, leaseMs: 50 });
    await new Promise((r) => setTimeout(r, 80));
    expect((await backend.inspector!.counts(q)).dead).toBe(1); // counts() recovers the expired lease
    const [second] = await backend.push([job(q, 'b', { uniqueKey: 'u' })]);
    expect(second!.duplicate).toBe(false);
    expect(await backend.inspector!.retryDead(q, [first!.id])).toBe(0);
    expect((await backend.inspector!.getJob(q, first!.id))?.state).toBe('dead');
    await backend.inspector!.purge(q);
  });

  test('a waiting pop wakes within milliseconds of a push from another OS process', async () => {
    const q = 'wake-cross-process';
    const child = fileURLToPath(new URL('./fixtures/push-later.mjs', import.meta.url));
    const pushed = run(process.execPath, [child, url, q, '300']);
    const popping = backend.pop([q], { max: 1, leaseMs: 60_000, waitMs: 15_000 });
    const [jobs, out] = await Promise.all([popping.then((j) => ({ j, at: Date.now() })), pushed]);
    const report = JSON.parse(out.stdout.trim()) as { id: string; before: number; after: number };
    expect(jobs.j.map((j) => j.id)).toEqual([report.id]);
    // measured from the child's call; includes the child's own round trip
    const latency = jobs.at - report.before;
    console.log(`cross-process wake-up: ${latency} ms after the child's push call`);
    expect(latency).toBeLessThan(250);
    await backend.ack(jobs.j[0]!);
  });

  test('pickup latency of a blocked pop, push from another connection, 200 samples', async () => {
    const q = 'pickup';
    const producer = await createBackend(url);
    const samples: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const popping = backend.pop([q], { max: 1, leaseMs: 60_000, waitMs: 5000 });
        await new Promise((r) => setTimeout(r, 2));
        const t0 = performance.now();
        await producer.push([job(q, i)]);
        const [j] = await popping;
        samples.push(performance.now() - t0);
        await backend.ack(j!);
      }
    } finally {
      await producer.close();
    }
    samples.sort((a, b) => a - b);
    const p = (q: number) =>
      samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
    console.log(
      `pickup latency (push call → pop resolved): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`,
    );
    expect(Number(p(0.5))).toBeLessThan(10);
  });

  test('bad URLs and options are refused with ConfigError, passwords never in the message', async () => {
    const secret = 'hunter2-secret';
    const cases = [
      `redis://:${secret}@127.0.0.1:6379/9?prefx=x`,
      `redis://:${secret}@127.0.0.1:6379/abc`,
      `redis://:${secret}@127.0.0.1:6379/9?prefix=has{brace}`,
      `redis://:${secret}@127.0.0.1:6379/9?evictionPolicy=maybe`,
      `redis://:${secret}@127.0.0.1:6379/9?keepCompletedMs=1000`,
      `redis://:${secret}@127.0.0.1:6379/9?keepDead=-1`,
      `redis://:${secret}@127.0.0.1:6379/9?prefix=a&prefix=b`,
    ];
    for (const bad of cases) {
      const err = await createBackend(bad).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err?.code, bad).toBe('CONFIG');
      expect(err?.message).not.toContain(secret);
    }
  });
});

describe('redis backend on a server of the test’s own', () => {
  let server: TestServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = server.client();
  });
  afterAll(async () => {
    await server.stop();
  });

  test('pop of N jobs and ackMany of N jobs are one script call each; N concurrent acks are batched', async () => {
    const backend = await createBackend(server.url);
    try {
      const q = 'batched';
      const n = 64;
      let calls = await commandCalls(admin, 'evalsha');
      await backend.push(Array.from({ length: n * 2 }, (_, i) => job(q, i)));
      expect((await commandCalls(admin, 'evalsha')) - calls).toBe(1);

      calls = await commandCalls(admin, 'evalsha');
      const jobs = await backend.pop([q], { max: n, leaseMs: 60_000 });
      expect(jobs).toHaveLength(n);
      expect((await commandCalls(admin, 'evalsha')) - calls).toBe(1);

      calls = await commandCalls(admin, 'evalsha');
      expect((await backend.ackMany!(jobs)).every((r) => r === null)).toBe(true);
      expect((await commandCalls(admin, 'evalsha')) - calls).toBe(1);

      // single ack() calls made together ride in one script call as well
      const more = await backend.pop([q], { max: n, leaseMs: 60_000 });
      calls = await commandCalls(admin, 'evalsha');
      await Promise.all(more.map((j) => backend.ack(j)));
      expect((await commandCalls(admin, 'evalsha')) - calls).toBe(1);
      expect(await commandCalls(admin, 'eval')).toBe(0); // scripts were loaded once, called by SHA
    } finally {
      await backend.close();
    }
  });

  test('maxmemory-policy allkeys-lru: refused with ConfigError, or started with a warning when asked', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const refused = await createBackend(server.url).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(refused?.code).toBe('CONFIG');
      expect(refused?.message).toContain('allkeys-lru');

      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const warned = await createBackend(withParams(server.url, { evictionPolicy: 'warn' }));
        await warned.close();
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.some((w) => (w as Error & { code?: string }).code === 'ILKKUN_REDIS_EVICTION')).toBe(
        true,
      );

      // volatile-* evicts only keys with a TTL, and ilkkun never sets one
      await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
      await (await createBackend(server.url)).close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  test('when neither INFO nor CONFIG may be read (locked-down Redis), it starts and warns that it could not check', async () => {
    await admin.call(
      'ACL',
      'SETUSER',
      'limited',
      'on',
      '>limited-pw',
      '~*',
      '&*',
      '+@all',
      '-info',
      '-config',
    );
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const url = `redis://limited:limited-pw@127.0.0.1:${server.port}/0`;
      const backend = await createBackend(url);
      await backend.push([job('limited', 1)]);
      expect(await backend.pop(['limited'], { max: 1 })).toHaveLength(1);
      await backend.close();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'ILKKUN_REDIS_EVICTION');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toContain('could not read maxmemory-policy');
    expect(ours[0]!.message).not.toContain('limited-pw');
  });

  test('after SCRIPT FLUSH the scripts are sent again (EVAL once) and everything carries on', async () => {
    const backend = await createBackend(server.url);
    try {
      await admin.script('FLUSH');
      const evalsBefore = await commandCalls(admin, 'eval');
      const [pushed] = await backend.push([job('flushed', 'after flush')]);
      const [popped] = await backend.pop(['flushed'], { max: 1, leaseMs: 60_000 });
      expect(popped!.id).toBe(pushed!.id);
      await backend.ack(popped!);
      // push, pop and ack each re-sent their script once; the next calls go by SHA again
      expect((await commandCalls(admin, 'eval')) - evalsBefore).toBe(3);
      await backend.push([job('flushed', 'again')]);
      expect((await commandCalls(admin, 'eval')) - evalsBefore).toBe(3);
    } finally {
      await backend.close();
    }
  });

  test('a wrong password is BACKEND_AUTH_FAILED and does not repeat the password (more in auth.test.ts)', async () => {
    const err = await createBackend(`redis://limited:wrong-pw-123@127.0.0.1:${server.port}/0`).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('BACKEND_AUTH_FAILED');
    expect(err?.message).not.toContain('wrong-pw-123');
  });
});
