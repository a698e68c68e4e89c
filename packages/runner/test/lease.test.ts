import type { Backend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner, JobTimeoutError } from '../src/index.js';
import { backendCases, client, collect, delay, eventually, queueName, useBackendCase } from './helpers.js';

describe.each(backendCases)('leases and timeouts on $name', (backendCase) => {
  let backend!: Backend;
  const { start } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('the heartbeat keeps a job running longer than leaseMs from being popped twice', async () => {
    const q = queueName('heartbeat');
    let calls = 0;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async () => {
          calls++;
          await delay(600);
        },
      },
      global: { leaseMs: 200, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    const lost = collect(runner, 'lease:lost');
    await start(runner);
    const { id } = await client(backend).add(q, {});
    await eventually(() => calls === 1);
    // A rival consumer polls the same queue while the job runs: it must never get it.
    const stolen: string[] = [];
    const deadline = Date.now() + 15_000;
    while (completed.length === 0 && Date.now() < deadline) {
      for (const j of await backend.pop([q], { leaseMs: 200 })) {
        stolen.push(j.id);
        await backend.requeue(j, { release: true });
      }
      await delay(20);
    }
    expect(stolen).toEqual([]);
    expect(calls).toBe(1);
    expect(lost).toEqual([]);
    expect(completed[0]!.job.id).toBe(id);
  });

  it('a timeout aborts the signal with JobTimeoutError and counts as a failed attempt', async () => {
    const q = queueName('timeout');
    const reasons: unknown[] = [];
    const runner = createRunner({
      backend,
      handlers: {
        [q]: (_job, { signal }) =>
          new Promise<void>((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              reasons.push(signal.reason);
              reject(signal.reason);
            });
          }),
      },
      global: { timeoutMs: 100, waitMs: 100 },
    });
    const dead = collect(runner, 'job:dead');
    const retries = collect(runner, 'job:retry');
    await start(runner);
    const { id } = await client(backend).add(q, {}, { attempts: 2, backoff: 0 });
    await eventually(() => dead.length === 1);
    expect(retries).toHaveLength(1);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(JobTimeoutError);
    const stored = await backend.inspector!.getJob(q, id);
    expect(stored?.lastError).toMatchObject({ name: 'JobTimeoutError', attempt: 2 });
  });

  it('a handler ignoring its timeout fails on time but keeps its slot until it returns', async () => {
    const q = queueName('timeout-ignored');
    let finish!: () => void;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: () =>
          new Promise<void>((resolve) => {
            finish = resolve;
          }),
      },
      global: { timeoutMs: 100, waitMs: 100 },
    });
    const fails = collect(runner, 'job:fail');
    await start(runner);
    await client(backend).add(q, {}, { attempts: 1 });
    await eventually(() => fails.length === 1);
    expect(fails[0]!.error.name).toBe('JobTimeoutError');
    expect(runner.busy).toBe(1);
    finish();
    await eventually(() => runner.busy === 0);
  });

  it('ctx.extend lengthens the lease from inside the handler', async () => {
    const q = queueName('extend');
    let deadline: Date | undefined;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (_job, ctx) => {
          deadline = await ctx.extend(60_000);
        },
      },
      global: { waitMs: 100, leaseMs: 1_000 },
    });
    const completed = collect(runner, 'job:complete');
    await start(runner);
    const before = Date.now();
    await client(backend).add(q, {});
    await eventually(() => completed.length === 1);
    expect(deadline!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
  });
});
