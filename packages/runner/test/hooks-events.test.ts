import type { Backend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner } from '../src/index.js';
import { backendCases, client, collect, eventually, fixture, queueName, useBackendCase } from './helpers.js';

describe.each(backendCases)('hooks and events on $name', (backendCase) => {
  let backend!: Backend;
  const { runners } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('runs hooks around work and emits events in order', async () => {
    const q = queueName('hooks');
    const trail: string[] = [];
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (job, ctx) => {
          trail.push(`handler:${(job.payload as { ok: boolean }).ok}`);
          ctx.log('working', { step: 1 });
          if (!(job.payload as { ok: boolean }).ok) throw new Error('bad');
          return 42;
        },
      },
      global: { waitMs: 100, concurrency: 1 },
      hooks: {
        beforeWork: (job) => void trail.push(`before:${job.id}`),
        afterWork: (job, outcome) => void trail.push(`after:${job.id}:${outcome.ok}`),
        onFailure: (job, error, info) =>
          void trail.push(`onFailure:${job.id}:${error.message}:${info.willRetry}`),
        onWorkerStart: () => void trail.push('workerStart'),
      },
    });
    runners.push(runner);
    const events: string[] = [];
    for (const name of ['job:start', 'job:complete', 'job:fail', 'job:dead', 'job:log'] as const) {
      runner.on(name, (p) => events.push(`${name}:${p.job.id}`));
    }
    const completed = collect(runner, 'job:complete');
    const logs = collect(runner, 'job:log');
    const workerStarts = collect(runner, 'worker:start');
    const poolStarts = collect(runner, 'pool:start');
    await runner.start();
    const c = client(backend);
    const { id: good } = await c.add(q, { ok: true });
    await eventually(() => completed.length === 1);
    const { id: bad } = await c.add(q, { ok: false }, { attempts: 1 });
    await eventually(() => events.includes(`job:dead:${bad}`));
    await eventually(() => trail.some((t) => t.startsWith('onFailure')));
    expect(completed[0]!.result).toBe(42);
    expect(logs[0]).toMatchObject({ message: 'working', data: { step: 1 } });
    expect(workerStarts).toHaveLength(1);
    expect(poolStarts[0]).toMatchObject({ slots: 1 });
    expect(trail).toEqual([
      `before:${good}`,
      'handler:true',
      `after:${good}:true`,
      `before:${bad}`,
      'handler:false',
      `after:${bad}:false`,
      `onFailure:${bad}:bad:false`,
    ]);
    expect(events).toEqual([
      `job:start:${good}`,
      `job:log:${good}`,
      `job:complete:${good}`,
      `job:start:${bad}`,
      `job:log:${bad}`,
      `job:fail:${bad}`,
      `job:dead:${bad}`,
    ]);
  });

  it('process mode: onWorkerStart before the jobs of a child end, onWorkerStop after them; before/after around each job', async () => {
    const q = queueName('hooks-proc');
    const trail: string[] = [];
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('echo.mjs') },
      global: { mode: 'process', concurrency: 1, maxJobsPerWorker: 2, waitMs: 100 },
      hooks: {
        onWorkerStart: (w) => void trail.push(`start:${w.pid}`),
        beforeWork: (job) => void trail.push(`before:${job.id}`),
        afterWork: (job, outcome) =>
          void trail.push(`after:${job.id}:${outcome.ok ? (outcome.result as { pid: number }).pid : '?'}`),
        onWorkerStop: (w) => void trail.push(`stop:${w.pid}`),
      },
    });
    runners.push(runner);
    const completed = collect(runner, 'job:complete');
    await runner.start();
    const ids = (
      await client(backend).addMany(Array.from({ length: 4 }, (_, n) => ({ queue: q, payload: { n } })))
    ).map((r) => r.id);
    await eventually(() => completed.length === 4);
    await runner.stop();
    // recycled after 2 jobs: two children ran the 4 jobs
    const pids = [...new Set(completed.map((c) => (c.result as { pid: number }).pid))];
    expect(pids).toHaveLength(2);
    for (const id of ids) {
      const before = trail.indexOf(`before:${id}`);
      const after = trail.findIndex((t) => t.startsWith(`after:${id}:`));
      expect(before).toBeGreaterThanOrEqual(0);
      expect(after).toBeGreaterThan(before);
      const pid = Number(trail[after]!.split(':')[2]);
      // (beforeWork runs before a child is picked, so only the outcome is ordered against the child)
      expect(trail.indexOf(`start:${pid}`)).toBeGreaterThanOrEqual(0);
      expect(trail.indexOf(`start:${pid}`)).toBeLessThan(after);
      expect(trail.indexOf(`stop:${pid}`)).toBeGreaterThan(after);
    }
    // every child that started also stopped (the runner stopped them all). A spare still
    // starting when the runner stops gets onWorkerStop only: it exited, it never started.
    const started = trail.filter((t) => t.startsWith('start:')).map((t) => t.slice(6));
    const stopped = trail.filter((t) => t.startsWith('stop:')).map((t) => t.slice(5));
    for (const pid of started) expect(stopped).toContain(pid);
    expect(new Set(stopped).size).toBe(stopped.length);
  });

  it('a throwing beforeWork fails the attempt; throwing listeners and afterWork are reported, not fatal', async () => {
    const q = queueName('hook-throws');
    let handled = 0;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async () => {
          handled++;
        },
      },
      global: { waitMs: 100 },
      hooks: {
        beforeWork: (job) => {
          if (job.attemptsMade === 1) throw new Error('not yet');
        },
        afterWork: () => {
          throw new Error('after broke');
        },
      },
    });
    runners.push(runner);
    runner.on('job:start', () => {
      throw new Error('listener broke');
    });
    const errors = collect(runner, 'error');
    const retries = collect(runner, 'job:retry');
    const completed = collect(runner, 'job:complete');
    await runner.start();
    await client(backend).add(q, {}, { attempts: 2, backoff: 0 });
    await eventually(() => completed.length === 1);
    expect(retries[0]!.error.message).toBe('not yet');
    expect(handled).toBe(1);
    expect(errors.map((e) => e.context)).toEqual(
      expect.arrayContaining(['listener for job:start', 'afterWork hook']),
    );
  });
});
