import type { Backend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner, installSignalHandlers, JobReleasedError } from '../src/index.js';
import {
  backendCases,
  client,
  collect,
  delay,
  eventually,
  queueName,
  serverBackendCases,
  useBackendCase,
} from './helpers.js';

describe.each([...backendCases, ...serverBackendCases])('graceful shutdown on $name', (backendCase) => {
  let backend!: Backend;
  const { runners } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('lets in-flight jobs finish within the grace period', async () => {
    const q = queueName('grace-finish');
    const runner = createRunner({
      backend,
      handlers: { [q]: () => delay(200) },
      global: { concurrency: 3, waitMs: 100 },
    });
    runners.push(runner);
    const started = collect(runner, 'job:start');
    const completed = collect(runner, 'job:complete');
    const released = collect(runner, 'job:release');
    await runner.start();
    await client(backend).addMany(Array.from({ length: 3 }, () => ({ queue: q, payload: {} })));
    await eventually(() => started.length === 3);
    await runner.stop({ graceMs: 10_000 });
    expect(completed).toHaveLength(3);
    expect(released).toHaveLength(0);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0 });
  });

  it('releases unfinished jobs exactly once after the grace period, giving the attempt back', async () => {
    const q = queueName('grace-release');
    const reasons: unknown[] = [];
    const runner = createRunner({
      backend,
      handlers: {
        // ignores the abort on purpose: release must not depend on the handler cooperating
        [q]: (_job, { signal }) => {
          signal.addEventListener('abort', () => reasons.push(signal.reason));
          return delay(1_500);
        },
      },
      global: { concurrency: 2, waitMs: 100 },
    });
    runners.push(runner);
    const started = collect(runner, 'job:start');
    const released = collect(runner, 'job:release');
    const completed = collect(runner, 'job:complete');
    const stops = collect(runner, 'pool:stop');
    await runner.start();
    const ids = (
      await client(backend).addMany([
        { queue: q, payload: {} },
        { queue: q, payload: {} },
      ])
    ).map((r) => r.id);
    await eventually(() => started.length === 2);
    // stop twice, concurrently: still one release per job
    await Promise.all([runner.stop({ graceMs: 100 }), runner.stop({ graceMs: 100 })]);
    expect(released.map((r) => r.job.id).sort()).toEqual([...ids].sort());
    expect(stops).toEqual([{ released: 2 }]);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(JobReleasedError);
    for (const id of ids) {
      const job = await backend.inspector!.getJob(q, id);
      expect(job?.state).toBe('waiting');
      expect(job?.attemptsMade).toBe(0);
    }
    // the ignored handlers finish later: their results change nothing
    await delay(1_600);
    expect(completed).toHaveLength(0);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 2, active: 0 });
  });

  it('aborts a waiting pop so stop() does not wait out waitMs', async () => {
    const q = queueName('abort-pop');
    const runner = createRunner({ backend, handlers: { [q]: async () => {} }, global: { waitMs: 120_000 } });
    runners.push(runner);
    await runner.start();
    await delay(50);
    const t0 = Date.now();
    await runner.stop();
    // generous bound: far below waitMs is all this claims
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});

describe('signal handling', () => {
  it('first signal stops gracefully and exits 0; a second one forces exit', async () => {
    const exits: number[] = [];
    let finishStop!: () => void;
    const stopCalls: number[] = [];
    const remove = installSignalHandlers(
      () => {
        stopCalls.push(Date.now());
        return new Promise<void>((resolve) => {
          finishStop = resolve;
        });
      },
      { signals: ['SIGUSR2'], exit: (code) => exits.push(code) },
    );
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(stopCalls).toHaveLength(1);
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(exits).toEqual([143]);
      finishStop();
      await eventually(() => exits.length === 2);
      expect(exits).toEqual([143, 0]);
      expect(stopCalls).toHaveLength(1);
    } finally {
      remove();
    }
  });
});
