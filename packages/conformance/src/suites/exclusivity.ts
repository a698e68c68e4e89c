import type { LeasedJobRecord } from '@ilkkun/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest, recordDetail, requires } from '../contract-test.js';
import { spawnChild } from '../spawn-child.js';

/** Pop and ack until an empty wait, recording every id handed out (duplicates included). */
async function drain(ctx: SuiteContext, queue: string, seen: string[], deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const jobs: LeasedJobRecord[] = await ctx
      .backend()
      .pop([queue], { max: 7, leaseMs: 120_000, waitMs: ctx.scaled(600) });
    if (jobs.length === 0) return;
    for (const j of jobs) seen.push(j.id);
    await Promise.all(jobs.map((j) => ctx.backend().ack(j)));
  }
}

export function exclusivitySuite(ctx: SuiteContext): void {
  describe('exclusive delivery', () => {
    contractTest(
      ctx,
      'pop() from 8 concurrent consumers hands every job to exactly one of them',
      [],
      async () => {
        const q = ctx.queue('concurrent');
        const total = 400;
        const ids = (
          await ctx.client().addMany(Array.from({ length: total }, (_, i) => ({ queue: q, payload: i })))
        ).map((r) => r.id);
        const seen: string[] = [];
        const deadline = Date.now() + ctx.scaled(60_000);
        await Promise.all(Array.from({ length: 8 }, () => drain(ctx, q, seen, deadline)));
        expect(seen.length).toBe(total);
        expect(new Set(seen).size).toBe(total);
        expect([...seen].sort()).toEqual([...ids].sort());
      },
      90_000,
    );

    contractTest(
      ctx,
      'pop() from a second OS process and this one hands every job to exactly one of them',
      [requires.multiProcess],
      async (t) => {
        const url = ctx.options.url;
        if (!url) {
          t.skip('unsupported: no url given to open the store from another process');
          return;
        }
        const q = ctx.queue('twoproc');
        const total = 400;
        await ctx.client().addMany(Array.from({ length: total }, (_, i) => ({ queue: q, payload: i })));
        const childSeen: string[] = [];
        const child = spawnChild('pop-worker.js', [url, q, String(ctx.scaled(600))], (msg) => {
          if (msg.ids) childSeen.push(...msg.ids);
        });
        await Promise.race([child.ready, child.exited]);
        const seen: string[] = [];
        await drain(ctx, q, seen, Date.now() + ctx.scaled(60_000));
        expect(await child.exited, `child failed: ${child.stderr()}`).toBe(0);
        const all = [...seen, ...childSeen];
        expect(all.length).toBe(total);
        expect(new Set(all).size).toBe(total);
        recordDetail(t, `this process ${seen.length}, child ${childSeen.length}`);
      },
      90_000,
    );
  });
}
