import type { Backend } from '@ilkkun/core';
import { Client } from '@ilkkun/core';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, describe, expect, inject, test } from 'vitest';
import { createBackend } from '../../src/index.js';
import { dropPrefix, withFreshPrefix } from './provided.js';

const base = inject('mongodbUrl');
const { url, prefix } = withFreshPrefix(base, 'spec');
const opened: Backend[] = [];
const open = async () => {
  const b = await createBackend(url);
  opened.push(b);
  return b;
};
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});
afterAll(() => dropPrefix(base, prefix), 30_000);

describe(`over the driver (${inject('mongodbServer')})`, () => {
  test('16 claimers on 16 connections never double-grab', async () => {
    const producer = await open();
    const total = 200;
    await producer.push(
      Array.from({ length: total }, (_, i) => ({
        queue: 'c16',
        payload: String(i),
        priority: 0,
        runAt: new Date(),
        maxAttempts: 3,
      })),
    );
    const workers = await Promise.all(Array.from({ length: 16 }, () => open()));
    const seen: string[] = [];
    await Promise.all(
      workers.map(async (w) => {
        for (let round = 0; round < 200; round++) {
          const jobs = await w.pop(['c16'], { max: 2, leaseMs: 120_000 });
          if (jobs.length === 0) return;
          seen.push(...jobs.map((j) => j.id));
          for (const j of jobs) await w.ack(j);
        }
      }),
    );
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
  }, 120_000);

  test('operator-looking payload keys round-trip; the stored payload is a string', async () => {
    const b = await open();
    const payload = { $set: { 'a.b': 1 }, $where: '1', 'x.y': [[1, 2], [3]] };
    const { id } = await new Client(b).add('ops', payload);
    const raw = new MongoClient(base);
    try {
      const doc = await raw
        .db()
        .collection(`${prefix}_jobs`)
        .findOne({ _id: id as never });
      expect(typeof doc?.['payload']).toBe('string');
    } finally {
      await raw.close();
    }
    const [popped] = await b.pop(['ops']);
    expect(JSON.parse(popped!.payload)).toEqual(payload);
    await b.ack(popped!);
  });

  test('connecting again re-creates the indexes without error (idempotent)', async () => {
    await open();
    await open();
  });

  test('duplicate _id inserts surface as duplicates through insertMany (unique keys in one batch)', async () => {
    const b = await open();
    const mk = (payload: string) => ({
      queue: 'uk',
      payload,
      priority: 0,
      runAt: new Date(),
      maxAttempts: 1,
      uniqueKey: 'k',
    });
    const first = await b.push([mk('1')]);
    const again = await b.push([mk('2'), mk('3')]);
    expect(again).toEqual([
      { id: first[0]!.id, duplicate: true },
      { id: first[0]!.id, duplicate: true },
    ]);
  });
});
