import type { Backend, NewJob } from '@ilkkun/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/index.js';
import { deletePrefix, REDIS_URL, testPrefix, withParams } from './helpers.js';

const job = (queue: string, payload: unknown, extra: Partial<NewJob> = {}): NewJob => ({
  queue,
  payload: JSON.stringify(payload),
  priority: 0,
  runAt: new Date(),
  maxAttempts: 3,
  ...extra,
});
const labels = (jobs: Array<{ payload: string }>) => jobs.map((j) => JSON.parse(j.payload) as unknown);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inspection and housekeeping beyond the conformance suite', () => {
  const prefix = testPrefix('insp');
  let backend: Backend;

  beforeAll(async () => {
    backend = await createBackend(
      withParams(REDIS_URL, { prefix, keepCompleted: 100, keepCompletedMs: 300 }),
    );
  });
  afterAll(async () => {
    await backend.close();
    await deletePrefix(REDIS_URL, prefix);
  });

  test('getJob reports every state, with record fields intact', async () => {
    const q = 'states';
    const now = Date.now();
    const [w, d, a, c, x] = await backend.push([
      job(q, 'w', { priority: -7, uniqueKey: 'tab\there', backoff: { type: 'fixed', delayMs: 5 } }),
      job(q, 'd', { runAt: new Date(now + 3_600_000) }),
      job(q, 'a', { priority: 5 }),
      job(q, 'c', { priority: 4 }),
      job(q, 'x', { priority: 3 }),
    ]);
    const [ja, jc, jx] = await backend.pop([q], { max: 3, leaseMs: 60_000 });
    expect(labels([ja!, jc!, jx!])).toEqual(['a', 'c', 'x']);
    await backend.ack(jc!);
    await backend.requeue(jx!, {
      dead: true,
      error: { message: 'nope', name: 'TypeError', attempt: 1, at: new Date(now) },
    });
    const inspector = backend.inspector!;
    const states = await Promise.all([w, d, a, c, x].map((r) => inspector.getJob(q, r!.id)));
    expect(states.map((s) => s?.state)).toEqual(['waiting', 'delayed', 'active', 'completed', 'dead']);
    const waiting = states[0]!;
    expect(waiting.priority).toBe(-7);
    expect(waiting.uniqueKey).toBe('tab\there');
    expect(waiting.backoff).toEqual({ type: 'fixed', delayMs: 5 });
    expect(waiting.attemptsMade).toBe(0);
    expect(waiting.maxAttempts).toBe(3);
    expect(Math.abs(waiting.createdAt.getTime() - now)).toBeLessThan(2000);
    expect(states[1]!.runAt.getTime()).toBeGreaterThan(now + 3_500_000);
    expect(states[4]!.lastError).toEqual({
      message: 'nope',
      name: 'TypeError',
      attempt: 1,
      at: new Date(now),
    });
    expect(states[4]!.attemptsMade).toBe(1);
    expect(await inspector.getJob(q, 'not-an-id')).toBeUndefined();
    await backend.ack(ja!);
    await inspector.purge(q);
  });

  test('list pages every state in its documented order', async () => {
    const q = 'lists';
    const now = Date.now();
    await backend.push([
      job(q, 'd-late', { runAt: new Date(now + 7_200_000) }),
      job(q, 'd-soon', { runAt: new Date(now + 3_600_000) }),
      job(q, 'low', { priority: -1 }),
      job(q, 'high', { priority: 1 }),
      job(q, 'mid1'),
      job(q, 'mid2'),
    ]);
    const inspector = backend.inspector!;
    expect(labels(await inspector.list(q, 'delayed'))).toEqual(['d-soon', 'd-late']);
    expect(labels(await inspector.list(q, 'waiting', { offset: 1, limit: 2 }))).toEqual(['mid1', 'mid2']);
    const first = await backend.pop([q], { max: 1, leaseMs: 50_000 });
    const second = await backend.pop([q], { max: 1, leaseMs: 10_000 });
    expect(labels(await inspector.list(q, 'active'))).toEqual(['mid1', 'high']); // by lease deadline
    await backend.ack(first[0]!);
    await backend.ack(second[0]!);
    expect(labels(await inspector.list(q, 'completed'))).toEqual(['mid1', 'high']); // newest first
    await expect(inspector.list(q, 'waiting', { limit: 0 })).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(inspector.list(q, 'bogus' as never)).rejects.toMatchObject({ code: 'CONFIG' });
    await inspector.purge(q);
  });

  test('completed jobs older than keepCompletedMs are dropped', async () => {
    const q = 'aged';
    await backend.push([job(q, 1), job(q, 2)]);
    const jobs = await backend.pop([q], { max: 2, leaseMs: 60_000 });
    await backend.ackMany!(jobs);
    expect((await backend.inspector!.counts(q)).completed).toBe(2);
    await sleep(350);
    expect((await backend.inspector!.counts(q)).completed).toBe(0);
    expect(await backend.inspector!.getJob(q, jobs[0]!.id)).toBeUndefined();
  });

  test('deleteJobs by state and ids, retryDead of all, and uniqueKeys released along the way', async () => {
    const q = 'deletes';
    const inspector = backend.inspector!;
    const [w1, w2, d1] = await backend.push([
      job(q, 'w1', { uniqueKey: 'k1' }),
      job(q, 'w2'),
      job(q, 'd1', { runAt: new Date(Date.now() + 60_000), uniqueKey: 'k2' }),
    ]);
    expect(await inspector.deleteJobs(q, 'delayed', [w1!.id])).toBe(0); // w1 is waiting, not delayed
    expect(await inspector.deleteJobs(q, 'waiting', [w1!.id, '12345678'])).toBe(1);
    expect((await backend.push([job(q, 'again', { uniqueKey: 'k1' })]))[0]!.duplicate).toBe(false);
    expect(await inspector.deleteJobs(q, 'delayed')).toBe(1);
    expect((await backend.push([job(q, 'again', { uniqueKey: 'k2' })]))[0]!.duplicate).toBe(false);
    await expect(inspector.deleteJobs(q, 'active' as never)).rejects.toMatchObject({ code: 'CONFIG' });
    expect(await inspector.getJob(q, d1!.id)).toBeUndefined();

    const popped = await backend.pop([q], { max: 10, leaseMs: 60_000 });
    expect(popped.map((j) => j.id)).toContain(w2!.id);
    for (const j of popped) await backend.requeue(j, { dead: true });
    expect(await inspector.retryDead(q)).toBe(popped.length);
    const again = await backend.pop([q], { max: 10, leaseMs: 60_000 });
    expect(again.map((j) => j.attemptsMade)).toEqual(popped.map(() => 1));
    for (const j of again) await backend.requeue(j, { dead: true });
    expect(await inspector.deleteJobs(q, 'dead')).toBe(popped.length);
    expect(await inspector.counts(q)).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 });
  });

  test('requeue(release) gives the attempt back; extend moves the deadline; a stale token cannot extend', async () => {
    const q = 'release';
    await backend.push([job(q, 'r', { maxAttempts: 1 })]);
    const [first] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    await backend.requeue(first!, {
      release: true,
      error: { message: 'ignored', attempt: 1, at: new Date() },
    });
    const [second] = await backend.pop([q], { max: 1, leaseMs: 1000 });
    expect(second!.attemptsMade).toBe(1);
    expect(second!.lastError).toBeUndefined();
    const until = await backend.extend(second!, 120_000);
    expect(until.getTime()).toBeGreaterThan(Date.now() + 100_000);
    await expect(backend.extend(first!, 1000)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await backend.ack(second!);
  });

  test('one pop over several queues takes turns starting queue, so a busy queue cannot starve the others', async () => {
    const a = 'turn-a';
    const b = 'turn-b';
    await backend.push([
      ...Array.from({ length: 20 }, (_, i) => job(a, `a${i}`)),
      ...Array.from({ length: 20 }, (_, i) => job(b, `b${i}`)),
    ]);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      for (const j of await backend.pop([a, b], { max: 3, leaseMs: 60_000 })) {
        seen.add(j.queue);
        await backend.ack(j);
      }
    }
    expect(seen).toEqual(new Set([a, b]));
    await backend.inspector!.purge(a);
    await backend.inspector!.purge(b);
  });

  test('batches larger than one script call (push, pop, ackMany of 2500) are split and still complete', async () => {
    const q = 'big';
    const pushed = await backend.push(Array.from({ length: 2500 }, (_, i) => job(q, i)));
    expect(new Set(pushed.map((r) => r.id)).size).toBe(2500);
    const jobs = await backend.pop([q], { max: 2500, leaseMs: 60_000 });
    expect(jobs.map((j) => j.id)).toEqual(pushed.map((r) => r.id));
    expect((await backend.ackMany!(jobs)).every((r) => r === null)).toBe(true);
    expect((await backend.inspector!.counts(q)).completed).toBe(100); // keepCompleted
    await backend.inspector!.purge(q);
  });
});
