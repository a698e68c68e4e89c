import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, requires } from '../contract-test.js';

export function inspectionSuite(ctx: SuiteContext): void {
  describe('inspection', () => {
    contractTest(
      ctx,
      'counts() reports waiting, delayed, active and dead jobs',
      [requires.counts, requires.delays],
      async () => {
        const q = ctx.queue('counts');
        await ctx.client().addMany([
          { queue: q, payload: 'w1', priority: 1 },
          { queue: q, payload: 'w2' },
          { queue: q, payload: 'w3' },
          { queue: q, payload: 'later', delay: 3_600_000 },
          { queue: q, payload: 'doomed', priority: 2 },
        ]);
        const [doomed] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        await ctx.backend().requeue(doomed!, { dead: true });
        const [active] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        expect(await ctx.backend().inspector!.counts(q)).toEqual({
          waiting: 2,
          delayed: 1,
          active: 1,
          completed: 0,
          dead: 1,
        });
        expect(await ctx.backend().inspector!.queues()).toContain(q);
        await ctx.backend().ack(active!);
      },
    );

    contractTest(
      ctx,
      'list(queue, "waiting", { offset, limit }) pages through jobs in pop order',
      [requires.list, requires.priorities],
      async () => {
        const q = ctx.queue('list');
        const runAt = Date.now() - 1000;
        await ctx.client().addMany(
          ['c', 'a', 'd', 'b', 'e'].map((payload, i) => ({
            queue: q,
            payload,
            runAt,
            priority: payload === 'a' ? 9 : 0 + (i === 3 ? 5 : 0),
          })),
        );
        const inspector = ctx.backend().inspector!;
        const page1 = await inspector.list(q, 'waiting', { offset: 0, limit: 2 });
        const page2 = await inspector.list(q, 'waiting', { offset: 2, limit: 2 });
        const page3 = await inspector.list(q, 'waiting', { offset: 4, limit: 2 });
        const labels = [...page1, ...page2, ...page3].map((j) => JSON.parse(j.payload));
        expect(labels).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(page1.every((j) => j.state === 'waiting')).toBe(true);
        const job = await inspector.getJob(q, page1[0]!.id);
        expect(job?.id).toBe(page1[0]!.id);
        expect(JSON.parse(job!.payload)).toBe('a');
        expect(await inspector.getJob(q, '999999999')).toBeUndefined();
      },
    );

    contractTest(
      ctx,
      'purge(queue) deletes every job of the queue, active ones included',
      [requires.purge, requires.counts],
      async () => {
        const q = ctx.queue('purge');
        const other = ctx.queue('purge-other');
        await ctx
          .client()
          .addMany([
            ...[1, 2, 3].map((payload) => ({ queue: q, payload })),
            { queue: other, payload: 'keep' },
          ]);
        const [active] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        expect(await ctx.backend().inspector!.purge(q)).toBe(3);
        expect(await ctx.backend().inspector!.counts(q)).toEqual({
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          dead: 0,
        });
        await expect(ctx.backend().ack(active!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect((await ctx.backend().inspector!.counts(other)).waiting).toBe(1);
      },
    );
  });
}
