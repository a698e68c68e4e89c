import { type Backend, Client } from '@ilkkun/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { adminQuery, runUrl } from './helpers.js';

const opened: Backend[] = [];
afterAll(async () => {
  for (const b of opened.splice(0)) await b.close();
});

interface StatusRow extends RowDataPacket {
  Value: string;
}

/** InnoDB's own count of deadlocks it resolved (server-wide; MariaDB's Innodb_deadlocks). */
async function deadlocks(): Promise<number> {
  const [row] = await adminQuery<StatusRow[]>("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
  if (!row) throw new Error('the server reports no Innodb_deadlocks counter');
  return Number(row.Value);
}

/**
 * 16 consumers, each its own backend (own pool, as 16 worker processes would have), drain one
 * queue: pop several per transaction, ack each (batched by the backend). Every job must be handed
 * out exactly once and nothing may fail; deadlocks InnoDB reports would be retried inside the
 * backend, and the design (READ COMMITTED, SKIP LOCKED, rows locked in index order) should not
 * produce any.
 */
async function drainWith16(claim: string, total: number, label: string) {
  const url = `${runUrl}?claim=${claim}&connectionLimit=2`;
  const producer = await createBackend(url);
  opened.push(producer);
  const queue = `contention.${label}.${process.pid}`;
  const ids = (
    await new Client(producer).addMany(
      Array.from({ length: total }, (_, i) => ({ queue, payload: { i }, priority: i % 7 })),
    )
  ).map((r) => r.id);
  const consumers = await Promise.all(Array.from({ length: 16 }, () => createBackend(url)));
  opened.push(...consumers);
  const before = await deadlocks();
  const seen: string[] = [];
  const errors: unknown[] = [];
  const started = Date.now();
  await Promise.all(
    consumers.map(async (b) => {
      for (let idle = 0; idle < 3 && Date.now() - started < 60_000; ) {
        try {
          const jobs = await b.pop([queue], { max: 5, leaseMs: 120_000, waitMs: 100 });
          if (jobs.length === 0) {
            idle++;
            continue;
          }
          idle = 0;
          for (const j of jobs) seen.push(j.id);
          await Promise.all(jobs.map((j) => b.ack(j)));
        } catch (err) {
          errors.push(err);
          return;
        }
      }
    }),
  );
  const elapsed = Date.now() - started;
  return { ids, seen, errors, deadlocks: (await deadlocks()) - before, elapsed, producer, queue };
}

describe('contention', () => {
  it('16 concurrent consumers (SKIP LOCKED): every job exactly once, no errors, no deadlocks', async () => {
    const r = await drainWith16('skip-locked', 2000, 'skiplocked');
    expect(r.errors).toEqual([]);
    expect(r.seen.length).toBe(r.ids.length);
    expect(new Set(r.seen).size).toBe(r.ids.length);
    expect(r.deadlocks).toBe(0);
    expect(await r.producer.inspector!.counts(r.queue)).toMatchObject({ waiting: 0, active: 0, dead: 0 });
    console.log(`[contention] skip-locked: ${r.ids.length} jobs by 16 consumers in ${r.elapsed} ms`);
  }, 120_000);

  it('16 concurrent consumers (optimistic claim, the fallback): every job exactly once, no errors', async () => {
    const r = await drainWith16('optimistic', 500, 'optimistic');
    expect(r.errors).toEqual([]);
    expect(r.seen.length).toBe(r.ids.length);
    expect(new Set(r.seen).size).toBe(r.ids.length);
    expect(r.deadlocks).toBe(0);
    console.log(`[contention] optimistic: ${r.ids.length} jobs by 16 consumers in ${r.elapsed} ms`);
  }, 120_000);

  it('priority order holds under contention: no low-priority job is taken while a higher one waits', async () => {
    const url = `${runUrl}?connectionLimit=2`;
    const producer = await createBackend(url);
    opened.push(producer);
    const queue = `contention.prio.${process.pid}`;
    // 40 high, then 40 low: with 8 consumers taking 2 each, the first 5 rounds must be all high
    await new Client(producer).addMany([
      ...Array.from({ length: 40 }, () => ({ queue, payload: 'low', priority: 1 })),
      ...Array.from({ length: 40 }, () => ({ queue, payload: 'high', priority: 9 })),
    ]);
    const consumers = await Promise.all(Array.from({ length: 8 }, () => createBackend(url)));
    opened.push(...consumers);
    const firstBatches = await Promise.all(consumers.map((b) => b.pop([queue], { max: 5, leaseMs: 60_000 })));
    const taken = firstBatches.flat();
    expect(taken).toHaveLength(40);
    expect(taken.every((j) => JSON.parse(j.payload) === 'high')).toBe(true);
  });
});
