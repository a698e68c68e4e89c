import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, recordDetail } from '../contract-test.js';

export function waitSuite(ctx: SuiteContext): void {
  describe('wait', () => {
    contractTest(
      ctx,
      'pop({ waitMs }) on an empty queue returns soon after a push from another instance',
      [],
      async (t) => {
        const q = ctx.queue('wake');
        const producer = await ctx.openAnother();
        const waitMs = ctx.scaled(10_000);
        const popping = ctx.backend().pop([q], { max: 1, leaseMs: 60_000, waitMs });
        await new Promise((r) => setTimeout(r, ctx.scaled(200)));
        const pushed = Date.now();
        const [res] = await producer.push([
          { queue: q, payload: '"wake"', priority: 0, runAt: new Date(pushed), maxAttempts: 1 },
        ]);
        const jobs = await popping;
        const latency = Date.now() - pushed;
        expect(jobs.map((j) => j.id)).toEqual([res!.id]);
        expect(latency).toBeLessThan(waitMs);
        recordDetail(t, `wake-up ${latency} ms after push`);
        await ctx.backend().ack(jobs[0]!);
      },
    );

    contractTest(ctx, 'pop({ waitMs }) returns [] at the deadline when nothing arrives', [], async () => {
      const q = ctx.queue('deadline');
      const waitMs = ctx.scaled(400);
      const started = Date.now();
      expect(await ctx.backend().pop([q], { max: 1, waitMs })).toEqual([]);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(waitMs - 50);
      expect(elapsed).toBeLessThan(waitMs + ctx.scaled(5000));
    });

    contractTest(ctx, 'pop({ waitMs, signal }) returns early when the signal aborts', [], async () => {
      const q = ctx.queue('abort');
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 100);
      const jobs = await ctx.backend().pop([q], { max: 1, waitMs: 30_000, signal: controller.signal });
      expect(jobs).toEqual([]);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });
}
