import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest } from '../contract-test.js';
import { expectCode } from './validation.js';

export function closeSuite(ctx: SuiteContext): void {
  describe('close', () => {
    contractTest(
      ctx,
      'close() with jobs in flight loses nothing: waiting jobs stay, leased ones return when the lease ends',
      [],
      async () => {
        const q = ctx.queue('close');
        const ids = (
          await ctx.client().addMany([1, 2, 3].map((payload) => ({ queue: q, payload, attempts: 3 })))
        ).map((r) => r.id);
        const worker = await ctx.options.create();
        const lease = ctx.shortLeaseMs();
        const inFlight = await worker.pop([q], { max: 1, leaseMs: lease });
        expect(inFlight).toHaveLength(1);
        await worker.close();
        await expectCode(
          worker.push([{ queue: q, payload: '1', priority: 0, runAt: new Date(), maxAttempts: 1 }]),
          'BACKEND_CLOSED',
        );
        await new Promise((r) => setTimeout(r, lease + 50));
        const all = await ctx.popUntil(q, 3, { waitMs: ctx.scaled(15_000) });
        expect(all.map((j) => j.id).sort()).toEqual([...ids].sort());
        expect(all.find((j) => j.id === inFlight[0]!.id)?.attemptsMade).toBe(2);
        await Promise.all(all.map((j) => ctx.backend().ack(j)));
      },
    );
  });
}
