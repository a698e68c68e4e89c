import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, requires } from '../contract-test.js';

/** Pop one job at a time and return the payload labels in the order handed out. */
async function popOrder(ctx: SuiteContext, queue: string, count: number): Promise<string[]> {
  const order: string[] = [];
  for (let i = 0; i < count; i++) {
    const [job] = await ctx.backend().pop([queue], { max: 1, leaseMs: 60_000, waitMs: ctx.scaled(2000) });
    if (!job) break;
    order.push(JSON.parse(job.payload) as string);
    await ctx.backend().ack(job);
  }
  return order;
}

export function orderingSuite(ctx: SuiteContext): void {
  describe('ordering', () => {
    contractTest(ctx, 'pop() hands out higher priority first', [requires.priorities], async () => {
      const q = ctx.queue('prio');
      await ctx.client().addMany([
        { queue: q, payload: 'low', priority: -5 },
        { queue: q, payload: 'mid', priority: 0 },
        { queue: q, payload: 'high', priority: 10 },
        { queue: q, payload: 'mid2', priority: 0 },
      ]);
      expect(await popOrder(ctx, q, 4)).toEqual(['high', 'mid', 'mid2', 'low']);
    });

    contractTest(ctx, 'pop() hands out earlier runAt first within a priority', [], async () => {
      const q = ctx.queue('runat');
      const now = Date.now();
      await ctx.client().addMany([
        { queue: q, payload: 'newest', runAt: now - 1000 },
        { queue: q, payload: 'oldest', runAt: now - 3000 },
        { queue: q, payload: 'middle', runAt: now - 2000 },
      ]);
      expect(await popOrder(ctx, q, 3)).toEqual(['oldest', 'middle', 'newest']);
    });

    contractTest(ctx, 'pop() hands out insertion order among equal priority and runAt', [], async () => {
      const q = ctx.queue('fifo');
      const labels = Array.from({ length: 20 }, (_, i) => `job-${i}`);
      const runAt = Date.now() - 1000;
      await ctx.client().addMany(labels.map((payload) => ({ queue: q, payload, runAt })));
      expect(await popOrder(ctx, q, 20)).toEqual(labels);
    });

    contractTest(
      ctx,
      'pop({ max: 3 }) takes the three highest-ranked jobs, in rank order',
      [requires.priorities],
      async () => {
        const q = ctx.queue('batchrank');
        const runAt = Date.now() - 1000;
        await ctx.client().addMany(
          [
            ['e', 0],
            ['b', 5],
            ['f', 0],
            ['a', 7],
            ['c', 5],
            ['d', 1],
          ].map(([payload, priority]) => ({ queue: q, payload, priority: priority as number, runAt })),
        );
        const batch = await ctx.backend().pop([q], { max: 3, leaseMs: 60_000 });
        expect(batch.map((j) => JSON.parse(j.payload))).toEqual(['a', 'b', 'c']);
        const rest = await ctx.popUntil(q, 3);
        expect(rest.map((j) => JSON.parse(j.payload))).toEqual(['d', 'e', 'f']);
        await Promise.all([...batch, ...rest].map((j) => ctx.backend().ack(j)));
      },
    );

    contractTest(ctx, 'pop(max) returns jobs from several queues, never more than max', [], async () => {
      const a = ctx.queue('multi-a');
      const b = ctx.queue('multi-b');
      await ctx.client().addMany([
        { queue: a, payload: 'a1' },
        { queue: b, payload: 'b1' },
        { queue: a, payload: 'a2' },
      ]);
      const first = await ctx.backend().pop([a, b], { max: 2, leaseMs: 60_000 });
      expect(first.length).toBeLessThanOrEqual(2);
      const rest = await ctx.popUntilAny([a, b], 3 - first.length);
      const all = [...first, ...rest];
      expect(all.map((j) => JSON.parse(j.payload)).sort()).toEqual(['a1', 'a2', 'b1']);
      await Promise.all(all.map((j) => ctx.backend().ack(j)));
    });
  });

  describe('delays', () => {
    contractTest(
      ctx,
      'a delayed job is invisible until its runAt, then popped',
      [requires.delays],
      async () => {
        const q = ctx.queue('delay');
        const delay = ctx.scaled(600);
        const added = Date.now();
        await ctx.client().add(q, 'later', { delay });
        await ctx.client().add(q, 'now');
        const [first] = await ctx.backend().pop([q], { max: 5, leaseMs: 60_000 });
        expect(first && JSON.parse(first.payload)).toBe('now');
        expect(await ctx.backend().pop([q], { max: 5 })).toEqual([]);
        const later = await ctx.popUntil(q, 1, { waitMs: ctx.scaled(10_000) });
        expect(later).toHaveLength(1);
        expect(Date.now() - added).toBeGreaterThanOrEqual(delay - 20);
        await ctx.backend().ack(first!);
        await ctx.backend().ack(later[0]!);
      },
    );
  });
}
