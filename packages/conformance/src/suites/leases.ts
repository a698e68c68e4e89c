import { ackAndPop, ackMany, LEASE_EXPIRED_MESSAGE, type LeaseHandle } from '@ilkkun/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, recordDetail, requires } from '../contract-test.js';
import { expectCode } from './validation.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function leaseSuite(ctx: SuiteContext): void {
  describe('lease expiry', () => {
    contractTest(
      ctx,
      'a job whose lease expires is popped again with the attempt counted and "lease expired" recorded',
      [],
      async () => {
        const q = ctx.queue('expiry');
        const { id } = await ctx.client().add(q, 'crashy', { attempts: 3 });
        const lease = ctx.shortLeaseMs();
        const [first] = await ctx.backend().pop([q], { max: 1, leaseMs: lease });
        expect(first?.attemptsMade).toBe(1);
        expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
        await sleep(lease + 50);
        const [again] = await ctx.popUntil(q, 1, { waitMs: ctx.scaled(10_000) });
        expect(again?.id).toBe(id);
        expect(again?.attemptsMade).toBe(2);
        expect(again?.lastError?.message).toBe(LEASE_EXPIRED_MESSAGE);
        expect(again?.lease.token).not.toBe(first?.lease.token);
        await ctx.backend().ack(again!);
      },
    );

    contractTest(
      ctx,
      'a job that exhausts its attempts by lease expiry goes to dead instead of looping',
      [],
      async () => {
        const q = ctx.queue('expiry-dead');
        const { id } = await ctx.client().add(q, 'kills its worker', { attempts: 2 });
        const lease = ctx.shortLeaseMs();
        for (let attempt = 1; attempt <= 2; attempt++) {
          const [job] = await ctx.popUntil(q, 1, { leaseMs: lease, waitMs: ctx.scaled(10_000) });
          expect(job?.attemptsMade).toBe(attempt);
          await sleep(lease + 50);
        }
        expect(await ctx.backend().pop([q], { max: 1, waitMs: ctx.scaled(300) })).toEqual([]);
        const inspector = ctx.backend().inspector;
        if (ctx.capabilities().inspect.counts && inspector) {
          expect((await inspector.counts(q)).dead).toBe(1);
        }
        if (ctx.capabilities().inspect.list && inspector) {
          const [dead] = await inspector.list(q, 'dead');
          expect(dead?.id).toBe(id);
          expect(dead?.lastError?.message).toBe(LEASE_EXPIRED_MESSAGE);
        }
      },
    );

    contractTest(ctx, 'extend() keeps a job leased past its original lease', [requires.extend], async () => {
      const q = ctx.queue('extend');
      await ctx.client().add(q, 'long');
      const lease = ctx.shortLeaseMs();
      const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: lease });
      const until = await ctx.backend().extend(job!, lease * 10);
      expect(until.getTime()).toBeGreaterThan(Date.now() + lease * 5);
      await sleep(lease + 100);
      expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
      await ctx.backend().ack(job!);
    });
  });

  describe('stale lease', () => {
    contractTest(
      ctx,
      'ack() with a foreign token rejects with LEASE_LOST and changes nothing',
      [],
      async () => {
        const q = ctx.queue('foreign');
        await ctx.client().add(q, 'x');
        const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: 60_000 });
        const forged: LeaseHandle = { id: job!.id, queue: q, lease: { token: 'not-the-token' } };
        await expectCode(ctx.backend().ack(forged), 'LEASE_LOST');
        await expectCode(ctx.backend().requeue(forged, { dead: true }), 'LEASE_LOST');
        if (ctx.capabilities().extend) await expectCode(ctx.backend().extend(forged, 1000), 'LEASE_LOST');
        expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
        await ctx.backend().ack(job!);
        await expectCode(ctx.backend().ack(job!), 'LEASE_LOST');
      },
    );

    contractTest(
      ctx,
      'ack/requeue/extend() after the lease expired and the job was re-popped reject with LEASE_LOST',
      [],
      async () => {
        const q = ctx.queue('stale');
        await ctx.client().add(q, 'x', { attempts: 5 });
        const lease = ctx.shortLeaseMs();
        const [stale] = await ctx.backend().pop([q], { max: 1, leaseMs: lease });
        await sleep(lease + 50);
        const [fresh] = await ctx.popUntil(q, 1, { waitMs: ctx.scaled(10_000) });
        expect(fresh?.id).toBe(stale?.id);
        await expectCode(ctx.backend().ack(stale!), 'LEASE_LOST');
        await expectCode(ctx.backend().requeue(stale!, { dead: true }), 'LEASE_LOST');
        if (ctx.capabilities().extend) await expectCode(ctx.backend().extend(stale!, 60_000), 'LEASE_LOST');
        await ctx.backend().ack(fresh!);
        expect(await ctx.backend().pop([q], { max: 1 })).toEqual([]);
      },
    );

    contractTest(
      ctx,
      'ackMany() acks every job it holds a lease on and reports the others as LEASE_LOST',
      [],
      async (t) => {
        const backend = ctx.backend();
        if (!backend.ackMany) {
          t.skip('unsupported: backend has no batch ack (ackMany); single acks are used');
          return;
        }
        const q = ctx.queue('ackmany');
        await ctx.client().addMany([1, 2, 3].map((payload) => ({ queue: q, payload })));
        const jobs = await ctx.popUntil(q, 3);
        const forged: LeaseHandle = { id: jobs[1]!.id, queue: q, lease: { token: 'forged' } };
        const outcome = await backend.ackMany([jobs[0]!, forged, jobs[2]!]);
        expect(outcome[0]).toBeNull();
        expect(outcome[1]).toMatchObject({ code: 'LEASE_LOST' });
        expect(outcome[2]).toBeNull();
        await backend.ack(jobs[1]!);
        await expectCode(backend.ack(jobs[0]!), 'LEASE_LOST');
      },
    );

    contractTest(
      ctx,
      'ackMany() with a stale and a current handle of the same job answers [LEASE_LOST, acked] and acks the job once',
      [],
      async () => {
        const backend = ctx.backend();
        const q = ctx.queue('ackmany-stale');
        const { id } = await ctx.client().add(q, 'twice leased', { attempts: 5 });
        const [stale] = await backend.pop([q], { max: 1, leaseMs: ctx.shortLeaseMs() });
        expect(stale?.id).toBe(id);
        // No fixed sleep: the job coming back is the sign its short lease ran out, however slow
        // the server. The new lease is long, so it cannot run out during the rest of the case.
        const [current] = await ctx.popUntil(q, 1, { leaseMs: 60_000, waitMs: ctx.scaled(20_000) });
        expect(current?.id).toBe(id);
        expect(current?.lease.token).not.toBe(stale?.lease.token);
        // The answer is per handle (job id and lease token), not per job: a runner that acks a
        // stale copy and the live one in one batch must not hear "acked" twice. Through core's
        // ackMany(), as a runner calls it: the backend's batch ack, or single acks without one.
        const outcome = await ackMany(backend, [stale!, current!]);
        expect(outcome).toHaveLength(2);
        expect(outcome[0]).toMatchObject({ code: 'LEASE_LOST' });
        expect(outcome[1]).toBeNull();
        // acked exactly once: neither handle acks again, and the job is not back in waiting
        await expectCode(backend.ack(current!), 'LEASE_LOST');
        await expectCode(backend.ack(stale!), 'LEASE_LOST');
        expect(await backend.pop([q], { max: 1, waitMs: ctx.scaled(300) })).toEqual([]);
        const inspector = backend.inspector;
        if (ctx.capabilities().inspect.counts && inspector) {
          const counts = await inspector.counts(q);
          expect(counts).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 0 });
          expect(counts.completed).toBeLessThanOrEqual(1);
        }
      },
    );

    contractTest(
      ctx,
      'ackAndPop() acks the jobs it holds leases on (others LEASE_LOST) and leases only jobs that are ready',
      [],
      async (t) => {
        const backend = ctx.backend();
        if (!backend.ackAndPop)
          recordDetail(t, 'no native ackAndPop: core runs ackMany and pop side by side');
        const q = ctx.queue('ackpop');
        const other = ctx.queue('ackpop-other');
        const added = await ctx.client().addMany([1, 2, 3].map((payload) => ({ queue: q, payload })));
        await ctx.client().add(other, 'elsewhere');
        const held = await ctx.popUntil(q, 2, { leaseMs: 60_000 });
        const [elsewhere] = await ctx.popUntil(other, 1, { leaseMs: 60_000 });
        const third = added.map((a) => a.id).find((id) => !held.some((h) => h.id === id))!;
        const forged: LeaseHandle = { id: held[1]!.id, queue: q, lease: { token: 'forged' } };
        const result = await ackAndPop(backend, [held[0]!, forged, elsewhere!], [q], {
          max: 5,
          leaseMs: 60_000,
        });
        expect(result.acked[0]).toBeNull();
        expect(result.acked[1]).toMatchObject({ code: 'LEASE_LOST' });
        expect(result.acked[2]).toBeNull();
        // the one ready job, never one still leased; a store whose non-waiting receive can miss
        // a message (SQS short polling) may hand it to the next pop instead
        const rest = result.jobs.length > 0 ? [] : await ctx.popUntil(q, 1, { leaseMs: 60_000 });
        expect([...result.jobs, ...rest].map((j) => j.id)).toEqual([third]);
        expect([...result.jobs, ...rest][0]!.attemptsMade).toBe(1);
        await expectCode(backend.ack(held[0]!), 'LEASE_LOST');
        await expectCode(backend.ack(elsewhere!), 'LEASE_LOST');
        await backend.ack(held[1]!);
        await backend.ack([...result.jobs, ...rest][0]!);
        expect(await backend.pop([q, other], { max: 5 })).toEqual([]);
      },
    );

    contractTest(
      ctx,
      'ack() after the lease expired (not yet re-popped) rejects with LEASE_LOST',
      [],
      async () => {
        const q = ctx.queue('expired-ack');
        await ctx.client().add(q, 'x', { attempts: 5 });
        const lease = ctx.shortLeaseMs();
        const [job] = await ctx.backend().pop([q], { max: 1, leaseMs: lease });
        await sleep(lease + 50);
        await expectCode(ctx.backend().ack(job!), 'LEASE_LOST');
        const [again] = await ctx.popUntil(q, 1, { waitMs: ctx.scaled(10_000) });
        expect(again?.id).toBe(job?.id);
        await ctx.backend().ack(again!);
      },
    );
  });
}
