import { type Backend, hasErrorCode, type JobState, type NewJob } from '@ilkkun/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/index.js';
import { startRedisServer, type TestServer } from './helpers.js';

const job = (queue: string, i: number, delayMs = 0): NewJob => ({
  queue,
  payload: JSON.stringify({ i }),
  priority: i % 3,
  runAt: new Date(Date.now() + delayMs),
  maxAttempts: 3,
});

/** Every id of a queue, by state, paging through the inspector. */
async function idsByState(backend: Backend, queue: string): Promise<Map<string, JobState>> {
  const out = new Map<string, JobState>();
  for (const state of ['waiting', 'delayed', 'active', 'completed', 'dead'] as const) {
    for (let offset = 0; ; offset += 1000) {
      const page = await backend.inspector!.list(queue, state, { offset, limit: 1000 });
      for (const j of page) out.set(j.id, state);
      if (page.length < 1000) break;
    }
  }
  return out;
}

describe('durability with AOF (appendfsync always) on a server the test starts and kills', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startRedisServer({ appendonly: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  test('no acknowledged push is lost across kill -9 and SHUTDOWN NOSAVE; a connected backend carries on', async () => {
    const q = 'aof';
    const backend = await createBackend(server.url);
    try {
      const ids: string[] = [];
      // bulk, one by one (concurrently), delayed, and some leased when the server dies
      for (let b = 0; b < 10; b++) {
        const res = await backend.push(Array.from({ length: 100 }, (_, k) => job(q, b * 100 + k)));
        ids.push(...res.map((r) => r.id));
      }
      const singles = await Promise.all(
        Array.from({ length: 300 }, (_, k) => backend.push([job(q, 1000 + k)])),
      );
      ids.push(...singles.map((r) => r[0]!.id));
      const delayed = await backend.push(Array.from({ length: 200 }, (_, k) => job(q, 1300 + k, 3_600_000)));
      ids.push(...delayed.map((r) => r.id));
      const leased = await backend.pop([q], { max: 100, leaseMs: 600_000 });
      expect(leased).toHaveLength(100);
      const before = await idsByState(backend, q);
      expect(before.size).toBe(1500);

      await server.kill9();
      await server.restart();
      const afterKill = await createBackend(server.url);
      try {
        expect(await afterKill.inspector!.counts(q)).toEqual({
          waiting: 1200,
          delayed: 200,
          active: 100,
          completed: 0,
          dead: 0,
        });
        expect(await idsByState(afterKill, q)).toEqual(before);
      } finally {
        await afterKill.close();
      }

      // the backend that was connected all along reconnects, reloads its scripts and goes on
      const [late] = await backend.push([job(q, 9999)]);
      ids.push(late!.id);
      expect(await backend.ack(leased[0]!)).toBeUndefined();
      ids.splice(ids.indexOf(leased[0]!.id), 1);

      await server.shutdownNoSave();
      await server.restart();
      const afterShutdown = await createBackend(server.url);
      try {
        const now = await idsByState(afterShutdown, q);
        expect([...now.keys()].sort()).toEqual([...ids].sort());
        expect(now.get(leased[0]!.id)).toBeUndefined();
        expect(now.get(leased[1]!.id)).toBe('active');
        await afterShutdown.inspector!.purge(q);
      } finally {
        await afterShutdown.close();
      }
    } finally {
      await backend.close();
    }
  }, 60_000);
});

test('control: without AOF (and no snapshots) the same kill -9 loses everything, so the test above proves something', async () => {
  const server = await startRedisServer({ appendonly: false });
  try {
    const backend = await createBackend(server.url);
    await backend.push(Array.from({ length: 10 }, (_, i) => job('volatile', i)));
    await backend.close();
    await server.kill9();
    await server.restart();
    const after = await createBackend(server.url);
    expect((await after.inspector!.counts('volatile')).waiting).toBe(0);
    await after.close();
  } finally {
    await server.stop();
  }
});

describe('connection trouble on a server the test starts', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  test('CLIENT KILL of the blocking connection mid-wait: the pop still wakes for the next push', async () => {
    const q = 'killed-waiter';
    const consumer = await createBackend(server.url);
    const producer = await createBackend(server.url);
    const admin = server.client();
    try {
      const popping = consumer.pop([q], { max: 1, leaseMs: 60_000, waitMs: 10_000 });
      await new Promise((r) => setTimeout(r, 150));
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const blocked = list
        .split('\n')
        .filter((l) => / name=ilkkun-blocking /.test(l) && / cmd=blpop /.test(l));
      expect(blocked.length).toBe(1);
      const id = /(?:^|\s)id=(\d+)/.exec(blocked[0]!)![1]!;
      expect(Number(await admin.call('CLIENT', 'KILL', 'ID', id))).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
      const started = Date.now();
      const [pushed] = await producer.push([job(q, 1)]);
      const jobs = await popping;
      expect(jobs.map((j) => j.id)).toEqual([pushed!.id]);
      expect(Date.now() - started).toBeLessThan(2000);
      await consumer.ack(jobs[0]!);
    } finally {
      await consumer.close();
      await producer.close();
    }
  });

  test('a restart of Redis mid-wait: the pop resumes or fails retryable, and nothing is lost', async () => {
    const q = 'restart-waiter';
    const consumer = await createBackend(server.url);
    try {
      const popping = consumer.pop([q], { max: 1, leaseMs: 60_000, waitMs: 15_000 }).then(
        (jobs) => ({ jobs, err: undefined }),
        (err: unknown) => ({ jobs: [], err }),
      );
      await new Promise((r) => setTimeout(r, 100));
      await server.kill9();
      await new Promise((r) => setTimeout(r, 300));
      await server.restart();
      const producer = await createBackend(server.url);
      const [pushed] = await producer.push([job(q, 1)]);
      await producer.close();
      const first = await popping;
      if (first.err !== undefined) {
        expect(hasErrorCode(first.err, 'BACKEND_UNAVAILABLE')).toBe(true);
        expect((first.err as { retryable?: boolean }).retryable).toBe(true);
      }
      const jobs =
        first.jobs.length > 0
          ? first.jobs
          : await consumer.pop([q], { max: 1, leaseMs: 60_000, waitMs: 5000 });
      expect(jobs.map((j) => j.id)).toEqual([pushed!.id]);
      await consumer.ack(jobs[0]!);
    } finally {
      await consumer.close();
    }
  });

  test('while Redis is down, calls fail within seconds with a retryable BackendUnavailableError', async () => {
    const backend = await createBackend(server.url);
    try {
      await server.kill9();
      const started = Date.now();
      const pushErr = await backend.push([job('down', 1)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(pushErr, 'BACKEND_UNAVAILABLE')).toBe(true);
      expect((pushErr as { retryable?: boolean }).retryable).toBe(true);
      const popErr = await backend.pop(['down'], { max: 1, waitMs: 1000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(popErr, 'BACKEND_UNAVAILABLE')).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      const connectErr = await createBackend(server.url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(connectErr, 'BACKEND_UNAVAILABLE')).toBe(true);
    } finally {
      await server.restart();
      await backend.close();
    }
  });
});
