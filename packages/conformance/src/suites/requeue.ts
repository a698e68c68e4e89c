import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, requires } from '../contract-test.js';

function failure(message: string, attempt: number) {
  return {
    message,
    name: 'Error',
    stack: `Error: ${message}\n    at handler (job.js:1:1)`,
    attempt,
    at: new Date(),
  };
}

export function requeueSuite(ctx: SuiteContext): void {
  describe('requeue', () => {
    contractTest(
      ctx,
      'requeue(job, { runAt, error }) delays the next attempt and records the error',
      [requires.delays],
      async () => {
        const q = ctx.queue('retry');
        const { id } = await ctx.client().add(q, 'flaky', { attempts: 3 });
        const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        const delay = ctx.scaled(500);
        const requeuedAt = Date.now();
        await ctx
          .backend()
          .requeue(job!, { runAt: new Date(requeuedAt + delay), error: failure('downstream 503', 1) });
        expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
        const [again] = await ctx.popUntil(q, 1, { waitMs: ctx.scaled(10_000) });
        expect(Date.now() - requeuedAt).toBeGreaterThanOrEqual(delay - 20);
        expect(again?.id).toBe(id);
        expect(again?.attemptsMade).toBe(2);
        expect(again?.lastError?.message).toBe('downstream 503');
        expect(again?.lastError?.attempt).toBe(1);
        expect(again?.lastError?.stack).toContain('downstream 503');
        await ctx.backend().ack(again!);
      },
    );

    contractTest(ctx, 'requeue(job) without runAt makes the job available again at once', [], async () => {
      const q = ctx.queue('requeue-now');
      await ctx.client().add(q, 'x');
      const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
      await ctx.backend().requeue(job!, { error: failure('try again', 1) });
      const [again] = await ctx.popUntil(q, 1);
      expect(again?.id).toBe(job?.id);
      expect(again?.attemptsMade).toBe(2);
      await ctx.backend().ack(again!);
    });

    contractTest(
      ctx,
      'requeue(job, { release: true }) hands the job back without using up an attempt',
      [],
      async () => {
        const q = ctx.queue('release');
        await ctx.client().add(q, 'x', { attempts: 1 });
        const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        await ctx.backend().requeue(job!, { release: true });
        const [again] = await ctx.popUntil(q, 1);
        expect(again?.id).toBe(job?.id);
        expect(again?.attemptsMade).toBe(1);
        await ctx.backend().ack(again!);
      },
    );
  });

  describe('dead jobs', () => {
    contractTest(
      ctx,
      'requeue(job, { dead: true }) moves the job to dead with its error; it is not popped again',
      [requires.counts, requires.list],
      async () => {
        const q = ctx.queue('dead');
        const { id } = await ctx.client().add(q, { to: 'user@example.com' });
        const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        await ctx.backend().requeue(job!, { dead: true, error: failure('mailbox does not exist', 1) });
        expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
        const inspector = ctx.backend().inspector!;
        expect(await inspector.counts(q)).toMatchObject({ waiting: 0, active: 0, dead: 1 });
        const [dead] = await inspector.list(q, 'dead');
        expect(dead?.id).toBe(id);
        expect(dead?.state).toBe('dead');
        expect(dead?.lastError?.message).toBe('mailbox does not exist');
        expect(JSON.parse(dead!.payload)).toEqual({ to: 'user@example.com' });
      },
    );

    contractTest(
      ctx,
      'retryDead() brings dead jobs back with their attempts reset',
      [requires.retryDead],
      async () => {
        const q = ctx.queue('retrydead');
        const ids = (
          await ctx.client().addMany([1, 2, 3].map((payload) => ({ queue: q, payload, attempts: 1 })))
        ).map((r) => r.id);
        const jobs = await ctx.popUntil(q, 3);
        for (const job of jobs) await ctx.backend().requeue(job, { dead: true, error: failure('boom', 1) });
        const inspector = ctx.backend().inspector!;
        expect(await inspector.retryDead(q, [ids[0]!])).toBe(1);
        const [one] = await ctx.popUntil(q, 1);
        expect(one?.id).toBe(ids[0]);
        expect(one?.attemptsMade).toBe(1);
        await ctx.backend().ack(one!);
        expect(await inspector.retryDead(q)).toBe(2);
        const rest = await ctx.popUntil(q, 2);
        expect(rest.map((j) => j.id).sort()).toEqual([ids[1], ids[2]].sort());
        await Promise.all(rest.map((j) => ctx.backend().ack(j)));
      },
    );

    contractTest(
      ctx,
      'deleteJobs(queue, "dead", ids) deletes only those dead jobs',
      [requires.deleteJobs, requires.counts],
      async () => {
        const q = ctx.queue('deletedead');
        const ids = (await ctx.client().addMany([1, 2].map((payload) => ({ queue: q, payload })))).map(
          (r) => r.id,
        );
        for (const job of await ctx.popUntil(q, 2))
          await ctx.backend().requeue(job, { dead: true, error: failure('x', 1) });
        const inspector = ctx.backend().inspector!;
        expect(await inspector.deleteJobs(q, 'dead', [ids[0]!])).toBe(1);
        expect((await inspector.counts(q)).dead).toBe(1);
        expect(await inspector.deleteJobs(q, 'dead')).toBe(1);
        expect((await inspector.counts(q)).dead).toBe(0);
      },
    );
  });
}
