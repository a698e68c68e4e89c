import { eventually } from '@ilkkun/conformance';
import { type Backend, Client, hasErrorCode, type LeasedJobRecord } from '@ilkkun/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/index.js';
import { SCRIPTS } from '../src/scripts/index.js';
import { deletePrefix, REDIS_URL, rawClient, testPrefix, withParams } from './helpers.js';
import { RedisFaultProxy } from './proxy.js';

/**
 * Issue 13 item 7: a connection cut after a script reached Redis but before its reply came back.
 * ioredis sends unanswered commands again after it reconnects (`autoResendUnfulfilledCommands`),
 * so the script runs a second time; the second run must answer what the first one did. Before
 * the fix an ack that had gone through came back as LEASE_LOST (the second run found the job
 * gone). The proxy swallows the reply, the test waits until Redis shows the first run's effect,
 * then cuts: no timing guess anywhere.
 */
const prefix = testPrefix('lost-reply');
let proxy: RedisFaultProxy;
let backend: Backend;
let raw: Redis;
let seq = 0;
const queue = (label: string) => `lost.${label}.${++seq}`;

beforeAll(async () => {
  proxy = await RedisFaultProxy.start(Number(new URL(REDIS_URL).port || 6379));
  backend = await createBackend(withParams(proxy.url(REDIS_URL), { prefix }));
  raw = rawClient(REDIS_URL);
});

afterAll(async () => {
  await backend.close();
  await proxy.close();
  raw.disconnect();
  await deletePrefix(REDIS_URL, prefix);
});

/** Whether Redis still holds the job at all (its header column), read beside the proxy. */
async function jobExists(q: string, id: string): Promise<boolean> {
  return (await raw.hexists(`${prefix}:{${q}}:head`, id)) === 1;
}

/** Whether the job is leased under its token right now, read beside the proxy. */
async function leasedBy(q: string, job: LeasedJobRecord): Promise<boolean> {
  return (await raw.zscore(`${prefix}:{${q}}:active`, `${job.id}:${job.lease.token}`)) !== null;
}

/**
 * Run `call` with the reply of the script `sha` lost: once Redis shows `done()`, the connection
 * is cut, ioredis reconnects and sends the script again. Returns what `call` finally answered.
 */
async function withLostReply<T>(sha: string, call: () => Promise<T>, done: () => Promise<boolean>) {
  proxy.loseReplyAfter(sha);
  const outcome = call().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await proxy.matched();
  await eventually(done, 10_000, 'the first run of the script to show in Redis');
  proxy.cut();
  return outcome;
}

describe('a reply lost to a connection cut: the script runs again and answers as the first run did', () => {
  test('ack: resolves as acked (not LEASE_LOST), the job is gone, and a second ack of the handle is LEASE_LOST', async () => {
    const q = queue('ack');
    const { id } = await new Client(backend).add(q, 'once');
    const [job] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    expect(job?.id).toBe(id);
    const outcome = await withLostReply(
      SCRIPTS.ack.sha,
      () => backend.ack(job!),
      async () => !(await jobExists(q, id)),
    );
    expect(outcome.ok ? 'acked' : outcome.error).toBe('acked');
    expect(await jobExists(q, id)).toBe(false);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    // the lease is used up: a new ack call with the same handle is not a re-run of the first
    const again = await backend.ack(job!).catch((e: unknown) => e);
    expect(hasErrorCode(again, 'LEASE_LOST')).toBe(true);
  });

  test('ack that failed unanswered (Redis unreachable until ioredis gave up): sent again, it is acked', async () => {
    const q = queue('retry');
    const { id } = await new Client(backend).add(q, 'once');
    const [job] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    proxy.loseReplyAfter(SCRIPTS.ack.sha);
    const first = backend.ack(job!).then(
      () => 'acked',
      (error: unknown) => error,
    );
    await proxy.matched();
    await eventually(async () => !(await jobExists(q, id)), 10_000, 'the ack to run in Redis');
    // refused reconnects: ioredis fails the unanswered ack instead of sending it again
    await proxy.outage();
    const failed = await first;
    await proxy.restore();
    expect(hasErrorCode(failed, 'BACKEND_UNAVAILABLE')).toBe(true);
    // the caller (the runner) sends the ack again: the store's true answer is "acked"
    await backend.ack(job!);
    expect(await jobExists(q, id)).toBe(false);
    // answered now: a further ack is a second ack of a used lease
    expect(hasErrorCode(await backend.ack(job!).catch((e: unknown) => e), 'LEASE_LOST')).toBe(true);
  });

  test('ackMany with a stale and a current handle: the re-run answers [LEASE_LOST, acked] again', async () => {
    const q = queue('stale');
    const { id } = await new Client(backend).add(q, 'leased twice', { attempts: 5 });
    const [stale] = await backend.pop([q], { max: 1, leaseMs: 100 });
    // the job coming back is the sign the short lease ran out
    const current = await eventually(
      async () => (await backend.pop([q], { max: 1, leaseMs: 60_000 }))[0],
      10_000,
      'the job to come back after its short lease',
    );
    expect([stale?.id, current.id]).toEqual([id, id]);
    const outcome = await withLostReply(
      SCRIPTS.ack.sha,
      () => backend.ackMany!([stale!, current]),
      async () => !(await jobExists(q, id)),
    );
    if (!outcome.ok) throw outcome.error;
    expect(outcome.value.map((e) => e?.code ?? null)).toEqual(['LEASE_LOST', null]);
    expect(hasErrorCode(await backend.ack(stale!).catch((e: unknown) => e), 'LEASE_LOST')).toBe(true);
  });

  test('ackAndPop: the carried ack is acked; the job the lost reply leased comes back after its lease', async () => {
    const q = queue('ack-pop');
    const client = new Client(backend);
    const { id: first } = await client.add(q, 'first');
    const { id: second } = await client.add(q, 'second', { attempts: 5 });
    const { id: third } = await client.add(q, 'third');
    const [job] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    expect(job?.id).toBe(first);
    const outcome = await withLostReply(
      SCRIPTS.ackPop.sha,
      () => backend.ackAndPop!([job!], [q], { max: 1, leaseMs: 1000 }),
      async () => !(await jobExists(q, first)),
    );
    if (!outcome.ok) throw outcome.error;
    expect(outcome.value.acked).toEqual([null]);
    // the first run leased `second`, but its reply never arrived; the second run leased `third`
    expect(outcome.value.jobs.map((j) => j.id)).toEqual([third]);
    await backend.ack(outcome.value.jobs[0]!);
    // nothing is lost: `second` comes back when the lease nobody received ends, attempt counted
    const back = await eventually(
      async () => (await backend.pop([q], { max: 1, leaseMs: 60_000 }))[0],
      10_000,
      'the undelivered job to come back',
    );
    expect(back.id).toBe(second);
    expect(back.attemptsMade).toBe(2);
    await backend.ack(back);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  test('requeue: resolves (not LEASE_LOST) and the job waits once for its next attempt', async () => {
    const q = queue('requeue');
    const { id } = await new Client(backend).add(q, 'retry me', { attempts: 5 });
    const [job] = await backend.pop([q], { max: 1, leaseMs: 60_000 });
    const outcome = await withLostReply(
      SCRIPTS.requeue.sha,
      () => backend.requeue(job!, { runAt: new Date(Date.now() + 60_000), error: { message: 'boom' } }),
      async () => !(await leasedBy(q, job!)),
    );
    expect(outcome.ok ? 'requeued' : outcome.error).toBe('requeued');
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 1, dead: 0 });
    const again = await backend.requeue(job!, { dead: true }).catch((e: unknown) => e);
    expect(hasErrorCode(again, 'LEASE_LOST')).toBe(true);
    expect(await jobExists(q, id)).toBe(true);
  });
});
