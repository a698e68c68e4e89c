import type { Backend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner } from '../src/index.js';
import {
  client,
  collect,
  delay,
  eventually,
  queueName,
  serverBackendCases,
  useBackendCase,
} from './helpers.js';

/**
 * A busy pool on a backend whose pops are independent round trips keeps a second pop out while a
 * batch runs, and lets finished jobs' acks ride in the pop that refills their slots
 * (`ackAndPop`). These check what a user relies on while that happens.
 */
describe.each(serverBackendCases)('pipelined pops on $name', (backendCase) => {
  let backend!: Backend;
  const { start } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('the backend pipelines and carries acks (what the rest of this file exercises)', () => {
    expect(backend.capabilities.concurrentPops).toBe(true);
    expect(typeof backend.ackAndPop).toBe('function');
  });

  it('works a backlog with every job exactly once, never more at once than the concurrency, nothing left behind', async () => {
    const q = queueName('pipeline');
    const jobs = 1500;
    const concurrency = 32;
    let running = 0;
    let maxRunning = 0;
    const runs = new Map<string, number>();
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (job) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          maxRunning = Math.max(maxRunning, ++running);
          // half finish together (whole batches free their slots at once), half take a moment
          await delay(Number(job.id) % 2 === 0 ? 0 : Math.random() * 3);
          running--;
        },
      },
      global: { concurrency, waitMs: 200 },
    });
    const completed = collect(runner, 'job:complete');
    const lost = collect(runner, 'lease:lost');
    const ids = (
      await client(backend).addMany(Array.from({ length: jobs }, (_, n) => ({ queue: q, payload: { n } })))
    ).map((r) => r.id);
    await start(runner);
    await eventually(() => completed.length === jobs, 30_000, `${jobs} completions`);
    expect(lost).toEqual([]);
    expect(maxRunning).toBeLessThanOrEqual(concurrency);
    expect(maxRunning).toBeGreaterThan(concurrency / 2);
    expect(ids.filter((id) => runs.get(id) !== 1)).toEqual([]);
    expect(new Set(completed.map((c) => c.job.id)).size).toBe(jobs);
    // every ack reached the store: nothing active, waiting or kept
    await eventually(async () => (await backend.inspector!.counts(q)).active === 0);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('a stop in the middle of a pipelined backlog leaves every job completed once or waiting, none active', async () => {
    const q = queueName('pipeline-stop');
    const jobs = 3000;
    const runs = new Map<string, number>();
    let stopped: Promise<void> | undefined;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (job) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          // the stop begins while batches run and pops (with carried acks) are out
          if (runs.size === 300) stopped = runner.stop({ graceMs: 2_000 });
          await delay(Number(job.id) % 2 === 0 ? 0 : 1);
        },
      },
      global: { concurrency: 32, waitMs: 200 },
    });
    const completed = collect(runner, 'job:complete');
    await client(backend).addMany(Array.from({ length: jobs }, (_, n) => ({ queue: q, payload: { n } })));
    await start(runner);
    await eventually(() => stopped !== undefined, 30_000, 'the stop under way');
    await stopped;
    const counts = await backend.inspector!.counts(q);
    expect(counts.active).toBe(0);
    expect(counts.waiting).toBeGreaterThan(0);
    // nothing lost: what was not completed is waiting again, its attempt given back
    expect(completed.length + counts.waiting).toBe(jobs);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    expect(runs.size).toBe(completed.length);
    const [next] = await backend.pop([q], { max: 1 });
    expect(next?.attemptsMade).toBe(1);
  });
});
