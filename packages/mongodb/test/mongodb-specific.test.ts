import {
  BackendUnavailableError,
  Client,
  ConfigError,
  type LeasedJobRecord,
  LeaseLostError,
} from '@ilkkun/core';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createBackend,
  type MongoBackend,
  openMongoBackend,
  parseMongoUrl,
  resolveOptions,
} from '../src/index.js';
import { FerretLikeServer } from './ferret-like-store.js';

const opened: MongoBackend[] = [];
async function open(server: FerretLikeServer): Promise<MongoBackend> {
  const b = await openMongoBackend(server.view());
  opened.push(b);
  return b;
}
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

const job = (queue: string, payload = '1', extra: Record<string, unknown> = {}) => ({
  queue,
  payload,
  priority: 0,
  runAt: new Date(),
  maxAttempts: 5,
  ...extra,
});

describe('why the protocol is needed (FerretDB v1 semantics)', () => {
  test('a naive read-then-conditional-update claim hands one job to many of 16 claimers', async () => {
    const server = new FerretLikeServer();
    await server.jobs.insertOne({ _id: 'j1', state: 'pending' });
    // what findOneAndUpdate({state:'pending'}, {$set:{state:'active'}}) does inside FerretDB v1
    const claims = await Promise.all(
      Array.from({ length: 16 }, () =>
        server.jobs.updateOne({ _id: 'j1', state: 'pending' }, { state: 'active' }),
      ),
    );
    expect(claims.filter((m) => m === 1).length).toBeGreaterThan(1);
  });

  test('16 concurrent claimers (separate backend instances) never double-grab', async () => {
    const server = new FerretLikeServer();
    const producer = await open(server);
    const total = 300;
    const ids = (await producer.push(Array.from({ length: total }, (_, i) => job('q16', String(i))))).map(
      (r) => r.id,
    );
    const workers = await Promise.all(Array.from({ length: 16 }, () => open(server)));
    const seen: string[] = [];
    await Promise.all(
      workers.map(async (w) => {
        for (let round = 0; round < 200; round++) {
          const jobs = await w.pop(['q16'], { max: 3, leaseMs: 60_000 });
          if (jobs.length === 0) return;
          seen.push(...jobs.map((j) => j.id));
          const lost = await w.ackMany(jobs);
          expect(lost.every((l) => l === null)).toBe(true);
        }
      }),
    );
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(server.jobs.docs.size).toBe(0);
    expect(server.fence.docs.size).toBe(0);
  });

  test('all 16 claimers racing for ONE job: exactly one wins', async () => {
    const server = new FerretLikeServer();
    const producer = await open(server);
    await producer.push([job('one')]);
    const workers = await Promise.all(Array.from({ length: 16 }, () => open(server)));
    const got = (await Promise.all(workers.map((w) => w.pop(['one'], { leaseMs: 60_000 })))).flat();
    expect(got).toHaveLength(1);
  });
});

describe('lease races', () => {
  test('late ack after expiry and re-pop: the old holder gets LeaseLost, the new one acks', async () => {
    const server = new FerretLikeServer();
    const a = await open(server);
    const b = await open(server);
    await a.push([job('late')]);
    const [first] = await a.pop(['late'], { leaseMs: 60 });
    await new Promise((r) => setTimeout(r, 120));
    const [second] = await b.pop(['late'], { leaseMs: 60_000, waitMs: 2000 });
    expect(second?.id).toBe(first!.id);
    expect(second?.attemptsMade).toBe(2);
    expect(second?.lastError?.message).toBe('lease expired');
    await expect(a.ack(first!)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(a.requeue(first!)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(a.extend(first!, 1000)).rejects.toBeInstanceOf(LeaseLostError);
    await b.ack(second!);
    expect(server.jobs.docs.size).toBe(0);
  });

  test('ack racing the expiry reclaimer: exactly one of them ends the claim', async () => {
    for (let i = 0; i < 20; i++) {
      const server = new FerretLikeServer();
      const a = await open(server);
      const b = await open(server);
      await a.push([job('race', '1', { maxAttempts: 3 })]);
      const [held] = await a.pop(['race'], { leaseMs: 30 });
      await new Promise((r) => setTimeout(r, 30));
      // ack (maybe just too late) and a reclaiming pop, concurrently
      const [acked, popped] = await Promise.all([
        a.ack(held!).then(
          () => true,
          (e: unknown) => (e instanceof LeaseLostError ? false : Promise.reject(e)),
        ),
        b.pop(['race'], { leaseMs: 60_000 }),
      ]);
      if (acked) {
        expect(popped).toEqual([]);
        expect(server.jobs.docs.size).toBe(0);
      } else {
        const again = popped.length > 0 ? popped : await b.pop(['race'], { leaseMs: 60_000, waitMs: 2000 });
        expect(again.map((j) => j.id)).toEqual([held!.id]);
        expect(again[0]!.attemptsMade).toBe(2);
      }
    }
  });

  test('a claimer that died between the lease insert and the job update: the claim expires, the job runs again', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    const id = (await b.push([job('orphan')]))[0]!.id;
    // what a crashed claimer leaves: its lease document, the job document still pending gen 0
    const past = new Date(Date.now() - 1000);
    await server.fence.insertOne({
      _id: `L:${id}:1`,
      jobId: id,
      gen: 1,
      attempt: 1,
      maxAttempts: 5,
      token: '1.dead',
      expiresAt: past,
      claimedAt: new Date(Date.now() - 5000),
      queue: 'orphan',
    });
    const jobs = await b.pop(['orphan'], { leaseMs: 60_000, waitMs: 3000 });
    expect(jobs.map((j) => j.id)).toEqual([id]);
    expect(jobs[0]!.attemptsMade).toBe(2);
    expect(jobs[0]!.lastError?.message).toBe('lease expired');
    await b.ack(jobs[0]!);
  });

  test('a lost "active" update is repaired, and the live holder keeps the job', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    await b.push([job('lost')]);
    const [held] = await b.pop(['lost'], { leaseMs: 60_000 });
    // FerretDB lost the claimer's update: the job document says pending gen 0 again
    const doc = server.jobs.docs.get(held!.id)!;
    Object.assign(doc, { state: 'pending', gen: 0, attempts: 0 });
    delete doc['leaseToken'];
    const lease = server.fence.docs.get(`L:${held!.id}:1`)!;
    lease['claimedAt'] = new Date(Date.now() - 10_000);
    expect(await b.pop(['lost'], { leaseMs: 60_000 })).toEqual([]);
    expect(server.jobs.docs.get(held!.id)?.['state']).toBe('active');
    await b.ack(held!);
  });

  test('random latency, short leases, late acks: no job is completed twice', async () => {
    const server = new FerretLikeServer();
    const producer = await open(server);
    const total = 60;
    await producer.push(Array.from({ length: total }, (_, i) => job('chaos', String(i), { maxAttempts: 4 })));
    const acked = new Map<string, number>();
    const workers = await Promise.all(Array.from({ length: 6 }, () => open(server)));
    const deadline = Date.now() + 20_000;
    let n = 0;
    await Promise.all(
      workers.map(async (w) => {
        while (Date.now() < deadline) {
          const jobs: LeasedJobRecord[] = await w.pop(['chaos'], { max: 2, leaseMs: 40, waitMs: 150 });
          if (jobs.length === 0) {
            if ((await producer.inspector.counts('chaos')).active === 0) return;
            continue;
          }
          for (const j of jobs) {
            const roll = n++ % 5;
            if (roll === 0) await new Promise((r) => setTimeout(r, 60)); // let the lease run out
            try {
              if (roll === 1)
                await w.requeue(j, { error: { message: 'x', attempt: j.attemptsMade, at: new Date() } });
              else {
                await w.ack(j);
                acked.set(j.id, (acked.get(j.id) ?? 0) + 1);
              }
            } catch (err) {
              if (!(err instanceof LeaseLostError)) throw err;
            }
          }
        }
      }),
    );
    expect([...acked.values()].every((c) => c === 1)).toBe(true);
    const counts = await producer.inspector.counts('chaos');
    expect(counts.waiting + counts.delayed + counts.active).toBe(0);
    expect(acked.size + counts.dead).toBe(total);
  }, 30_000);
});

describe('storage', () => {
  test('payloads with operator-looking and dotted keys round-trip and are stored as text', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    const client = new Client(b);
    const payload = { $set: { 'a.b': 1 }, $where: 'sleep(1000)', 'x.y': [[1, 2], [3]], '': null };
    const { id } = await client.add('ops', payload);
    expect(typeof server.jobs.docs.get(id)?.['payload']).toBe('string');
    const [popped] = await b.pop(['ops']);
    expect(JSON.parse(popped!.payload)).toEqual(payload);
    await b.ack(popped!);
  });

  test('index creation at connect is idempotent', async () => {
    const server = new FerretLikeServer();
    await open(server);
    await open(server);
    expect([...server.jobs.indexes.keys()].sort()).toEqual(['ilkkun_claim', 'ilkkun_reclaim']);
    expect([...server.fence.indexes.keys()]).toEqual(['ilkkun_fence_job']);
  });

  test('uniqueKey: a push whose job insert fails gives its key back, so a retry is not a duplicate', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    const real = server.jobs.insertMany.bind(server.jobs);
    server.jobs.insertMany = async () => {
      throw new Error('connection reset');
    };
    await expect(b.push([job('rk', '1', { uniqueKey: 'k' })])).rejects.toThrow('connection reset');
    server.jobs.insertMany = real;
    const [res] = await b.push([job('rk', '1', { uniqueKey: 'k' })]);
    expect(res?.duplicate).toBe(false);
  });

  test('uniqueKey: a key left behind by a crashed push is taken over once stale', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    await server.keys.insertOne({
      _id: JSON.stringify(['u', 'k']),
      jobId: 'gone',
      at: new Date(Date.now() - 60_000),
    });
    const [res] = await b.push([job('u', '1', { uniqueKey: 'k' })]);
    expect(res?.duplicate).toBe(false);
    const [dup] = await b.push([job('u', '2', { uniqueKey: 'k' })]);
    expect(dup).toEqual({ id: res!.id, duplicate: true });
  });
});

describe('retention', () => {
  test('keepDeadMs deletes dead jobs once they are older than that; default keeps them', async () => {
    const server = new FerretLikeServer();
    const b = await open(server);
    await b.push([job('ret', '1', { maxAttempts: 1 })]);
    const [held] = await b.pop(['ret']);
    await b.requeue(held!, { dead: true, error: { message: 'no', attempt: 1, at: new Date() } });
    expect(server.jobs.docs.get(held!.id)?.['deadAt']).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 20));
    const keeper = await open(server);
    await keeper.pop(['ret']);
    expect((await keeper.inspector.counts('ret')).dead).toBe(1);
    const pruner = await openMongoBackend(server.view(), resolveOptions({}, { keepDeadMs: 10 }));
    opened.push(pruner);
    await pruner.pop(['ret']);
    expect((await pruner.inspector.counts('ret')).dead).toBe(0);
  });
});

describe('URLs and options', () => {
  test('ilkkun parameters are taken out; driver parameters and hosts pass through', () => {
    const p = parseMongoUrl('mongodb://u:secret@h1:27017,h2/app?prefix=jobs&replicaSet=rs0&w=1&pollMaxMs=50');
    expect(p.database).toBe('app');
    expect(p.params).toEqual({ prefix: 'jobs', pollMaxMs: '50' });
    expect(p.driverUrl).toBe('mongodb://u:secret@h1:27017,h2/app?replicaSet=rs0&w=1');
    expect(p.driverParams.has('w')).toBe(true);
    expect(parseMongoUrl('mongodb+srv://cluster.example').database).toBe('ilkkun');
    expect(resolveOptions(p.params)).toEqual({ prefix: 'jobs', pollMaxMs: 50, pollMinMs: 5, keepDeadMs: 0 });
  });

  test('bad parameters are a ConfigError that never shows the password', () => {
    expect(() => resolveOptions({ prefx: 'a' })).toThrow(ConfigError);
    expect(() => resolveOptions({ prefix: 'a.b' })).toThrow(ConfigError);
    expect(() => resolveOptions({ pollMaxMs: '0' })).toThrow(ConfigError);
    expect(() => parseMongoUrl('mongodb://u:secret@/x')).toThrow(ConfigError);
    try {
      parseMongoUrl('mongodb://u:secret@h/bad.name');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).not.toContain('secret');
    }
  });

  test('an unreachable server is BackendUnavailableError, with the password redacted', async () => {
    const err = await createBackend(
      'mongodb://user:hunter2@127.0.0.1:9/x?serverSelectionTimeoutMS=300',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).not.toContain('hunter2');
    expect((err as Error).message).toContain('127.0.0.1:9');
  });
});
