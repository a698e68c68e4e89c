import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, recordDetail, requires } from '../contract-test.js';
import { spawnChild } from '../spawn-child.js';

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

    contractTest(
      ctx,
      'pop({ waitMs }) in another OS process returns soon after a push from this one',
      [requires.multiProcess],
      async (t) => {
        const url = ctx.options.url;
        if (!url) {
          t.skip('unsupported: no url given to open the store from another process');
          return;
        }
        const q = ctx.queue('xwake');
        const waitMs = ctx.scaled(20_000);
        let got: { ids: string[]; at: number } | undefined;
        const child = spawnChild('wait-pop.js', [url, q, String(waitMs)], (msg) => {
          if (msg.ids && msg.at !== undefined) got = { ids: msg.ids, at: msg.at };
        });
        await Promise.race([child.ready, child.exited]);
        // give the child time to enter its wait (a pop that is still connecting proves nothing)
        await new Promise((r) => setTimeout(r, ctx.scaled(300)));
        const pushed = Date.now();
        const { id } = await ctx.client().add(q, 'wake across processes');
        expect(await child.exited, `child failed: ${child.stderr()}`).toBe(0);
        expect(got?.ids).toEqual([id]);
        const latency = got!.at - pushed;
        expect(latency).toBeLessThan(waitMs);
        recordDetail(t, `cross-process wake-up ${latency} ms after push`);
      },
      60_000,
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
