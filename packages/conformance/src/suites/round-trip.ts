import { decodeJob, type JsonValue } from '@ilkkun/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest } from '../contract-test.js';

/** Payloads that must come back exactly as sent, whatever the store does with text. */
function samplePayloads(limitBytes: number): Record<string, JsonValue> {
  let deep: JsonValue = { leaf: true };
  for (let i = 0; i < 40; i++) deep = { level: i, child: deep, list: [i, [i]] };
  return {
    null: null,
    true: true,
    false: false,
    zero: 0,
    negativeFloat: -1.5,
    huge: 1e300,
    tiny: 5e-324,
    maxSafeInteger: Number.MAX_SAFE_INTEGER,
    emptyString: '',
    unicode: 'Hangul 일꾼, accents éü, emoji 😀👩‍💻, RTL שלום, NUL \u0000, LS \u2028, lone \ud800',
    quotes: `single ' double " backslash \\ newline \n tab \t`,
    emptyObject: {},
    emptyArray: [],
    mixedArray: [1, 'two', null, false, { three: [3] }, []],
    // keys a document store could mistake for operators or paths: must stay plain data
    operatorKeys: JSON.parse(
      '{"$where":"sleep(1000)","$gt":1,"a.b":{"c.d":2},"__proto__":{"x":1},"constructor":"c","":0}',
    ),
    sqlish: "a'; DROP TABLE job; --",
    deep,
    // near the limit in bytes: multi-byte characters so byte and character counts differ
    largeMultibyte: { blob: '한'.repeat(Math.floor((limitBytes - 200) / 3)) },
  };
}

export function roundTripSuite(ctx: SuiteContext): void {
  describe('round trip', () => {
    contractTest(
      ctx,
      'push() → pop() → ack(): the job comes back with its fields and a lease, then is gone',
      [],
      async () => {
        const q = ctx.queue('roundtrip');
        const before = Date.now();
        const added = await ctx.client().add(q, { hello: 'world' }, { priority: 3, attempts: 5 });
        expect(added.duplicate).toBe(false);
        expect(typeof added.id).toBe('string');
        const [job, ...rest] = await ctx.backend().pop([q], { max: 10, leaseMs: 60_000 });
        expect(rest).toEqual([]);
        expect(job).toBeDefined();
        const j = decodeJob(job!);
        expect(j.id).toBe(added.id);
        expect(j.queue).toBe(q);
        expect(j.payload).toEqual({ hello: 'world' });
        expect(j.maxAttempts).toBe(5);
        expect(j.attemptsMade).toBe(1);
        if (ctx.capabilities().priorities) expect(j.priority).toBe(3);
        expect(j.createdAt).toBeInstanceOf(Date);
        expect(j.createdAt.getTime()).toBeGreaterThanOrEqual(before - 2000);
        expect(j.runAt).toBeInstanceOf(Date);
        expect(typeof j.lease.token).toBe('string');
        expect(j.lease.token.length).toBeGreaterThan(0);
        expect(j.lease.expiresAt.getTime()).toBeGreaterThan(Date.now());
        await ctx.backend().ack(job!);
        expect(await ctx.backend().pop([q], { max: 10 })).toEqual([]);
      },
    );

    contractTest(ctx, 'push(many) returns ids in input order, one per job', [], async () => {
      const q = ctx.queue('batch');
      const results = await ctx
        .client()
        .addMany(Array.from({ length: 50 }, (_, i) => ({ queue: q, payload: { i } })));
      expect(results).toHaveLength(50);
      expect(new Set(results.map((r) => r.id)).size).toBe(50);
      const jobs = await ctx.popUntil(q, 50);
      const byId = new Map(jobs.map((j) => [j.id, decodeJob(j).payload]));
      for (const [i, r] of results.entries()) expect(byId.get(r.id)).toEqual({ i });
      await Promise.all(jobs.map((j) => ctx.backend().ack(j)));
    });

    contractTest(
      ctx,
      'payloads of every JSON type round-trip unchanged (unicode, nested, operator-like keys, near the size limit)',
      [],
      async () => {
        const q = ctx.queue('payloads');
        const limit = Math.min(256 * 1024, ctx.capabilities().maxPayloadBytes ?? Number.POSITIVE_INFINITY);
        const samples = Object.entries(samplePayloads(limit));
        const results = await ctx.client().addMany(samples.map(([, payload]) => ({ queue: q, payload })));
        const jobs = await ctx.popUntil(q, samples.length);
        expect(jobs).toHaveLength(samples.length);
        const byId = new Map(jobs.map((j) => [j.id, decodeJob(j).payload]));
        samples.forEach(([label, payload], i) => {
          expect({ label, payload: byId.get(results[i]!.id) }).toStrictEqual({ label, payload });
        });
        await Promise.all(jobs.map((j) => ctx.backend().ack(j)));
      },
    );
  });
}
