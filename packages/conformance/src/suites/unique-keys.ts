import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, requires } from '../contract-test.js';

export function uniqueKeySuite(ctx: SuiteContext): void {
  describe('unique keys', () => {
    contractTest(
      ctx,
      'add() with a uniqueKey held by a waiting or active job returns that job, flagged duplicate',
      [requires.uniqueKeys],
      async () => {
        const q = ctx.queue('unique');
        const first = await ctx.client().add(q, 'one', { uniqueKey: 'user:42' });
        const dup = await ctx.client().add(q, 'two', { uniqueKey: 'user:42' });
        expect(dup).toEqual({ id: first.id, queue: q, duplicate: true });
        const [job] = await ctx.backend().pop([q], { max: 5, leaseMs: 60_000 });
        expect(job?.id).toBe(first.id);
        expect(JSON.parse(job!.payload)).toBe('one');
        const whileActive = await ctx.client().add(q, 'three', { uniqueKey: 'user:42' });
        expect(whileActive).toEqual({ id: first.id, queue: q, duplicate: true });
        await ctx.backend().ack(job!);
        const after = await ctx.client().add(q, 'four', { uniqueKey: 'user:42' });
        expect(after.duplicate).toBe(false);
        expect(after.id).not.toBe(first.id);
        const rest = await ctx.popUntil(q, 1);
        expect(rest.map((j) => JSON.parse(j.payload))).toEqual(['four']);
        await ctx.backend().ack(rest[0]!);
      },
    );

    contractTest(
      ctx,
      'add(many) de-duplicates within one batch and across queues keeps keys separate',
      [requires.uniqueKeys],
      async () => {
        const a = ctx.queue('unique-a');
        const b = ctx.queue('unique-b');
        const results = await ctx.client().addMany([
          { queue: a, payload: 1, uniqueKey: 'k' },
          { queue: a, payload: 2, uniqueKey: 'k' },
          { queue: b, payload: 3, uniqueKey: 'k' },
          { queue: a, payload: 4 },
        ]);
        expect(results.map((r) => r.duplicate)).toEqual([false, true, false, false]);
        expect(results[1]!.id).toBe(results[0]!.id);
        const jobs = await ctx.popUntilAny([a, b], 3);
        expect(jobs).toHaveLength(3);
        await Promise.all(jobs.map((j) => ctx.backend().ack(j)));
      },
    );

    contractTest(ctx, 'a uniqueKey is free again once its job is dead', [requires.uniqueKeys], async () => {
      const q = ctx.queue('unique-dead');
      const first = await ctx.client().add(q, 'x', { uniqueKey: 'once' });
      const [job] = await ctx.popUntil(q, 1);
      await ctx.backend().requeue(job!, { dead: true });
      const again = await ctx.client().add(q, 'y', { uniqueKey: 'once' });
      expect(again.duplicate).toBe(false);
      expect(again.id).not.toBe(first.id);
    });
  });
}
