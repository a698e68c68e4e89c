import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { eventually } from '@ilkkun/conformance';
import { type Backend, Client } from '@ilkkun/core';
import { createRunner, type Runner } from '@ilkkun/runner';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { delay, fixture, runUrl } from './helpers.js';

// The runner's crash and shutdown scenarios (packages/runner/test) on this backend. The handler
// modules crash-once.mjs and sleep.mjs are copies of the runner's own test fixtures.
const runnerFixture = fixture;

let backend: Backend;
const runners: Runner[] = [];
const children = new Set<ChildProcess>();
let seq = 0;
const queueName = (label: string) => `test.runner.${label}.${process.pid}.${++seq}`;

beforeAll(async () => {
  backend = await createBackend(runUrl);
  return async () => {
    await backend.close();
  };
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop({ graceMs: 0 })));
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

function collect<T>(runner: Runner, event: Parameters<Runner['on']>[0]): T[] {
  const seen: T[] = [];
  runner.on(event, (p: unknown) => seen.push(p as T));
  return seen;
}

describe('runner on mysql: process mode crashes', () => {
  it('replaces a crashed child and retries its job with the attempt counted', async () => {
    const q = queueName('crash');
    const runner = createRunner({
      backend,
      handlers: { [q]: runnerFixture('crash-once.mjs') },
      global: { mode: 'process', concurrency: 1, minWorkers: 1, waitMs: 100 },
    });
    runners.push(runner);
    const completed = collect<{ job: { id: string; attemptsMade: number } }>(runner, 'job:complete');
    const fails = collect<{ error: { name: string }; willRetry: boolean }>(runner, 'job:fail');
    await runner.start();
    const { id } = await new Client(backend).add(q, {}, { attempts: 3, backoff: 0 });
    await eventually(() => completed.length === 1, 30_000, 'the retried job to complete');
    expect(fails).toHaveLength(1);
    expect(fails[0]!.error.name).toBe('WorkerCrashedError');
    expect(completed[0]!.job).toMatchObject({ id, attemptsMade: 2 });
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 0 });
  });

  it('a child SIGKILLed mid-job: the job is redone and completed exactly once', async () => {
    const q = queueName('sigkill');
    const runner = createRunner({
      backend,
      handlers: { [q]: runnerFixture('sleep.mjs') },
      global: { mode: 'process', concurrency: 2, minWorkers: 1, waitMs: 100 },
    });
    runners.push(runner);
    const completed = collect<{ job: { id: string; attemptsMade: number } }>(runner, 'job:complete');
    await runner.start();
    const ids = (
      await new Client(backend).addMany(
        Array.from({ length: 4 }, () => ({ queue: q, payload: { ms: 500 }, attempts: 3, backoff: 0 })),
      )
    ).map((r) => r.id);
    const slot = await eventually(
      () => runner.status().groups[0]!.slots.find((s) => s.jobId === ids[0] && s.pid !== undefined),
      30_000,
      'the first job to run in a child',
    );
    process.kill(slot.pid!, 'SIGKILL');
    await eventually(() => completed.length === ids.length, 30_000, 'every job to complete');
    await delay(300);
    expect(completed.map((c) => c.job.id).sort()).toEqual([...ids].sort());
    expect(completed.find((c) => c.job.id === ids[0])!.job.attemptsMade).toBe(2);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 0 });
  });

  it('a whole runner process killed hard: its lease expires and another runner finishes the job, attempt counted', async () => {
    const q = queueName('killed-runner');
    const { id } = await new Client(backend).add(q, { ms: 60_000 }, { attempts: 3 });
    const child = startRunnerProcess(q, 10_000, 600);
    await child.line((l) => l.startsWith(`started ${id}`));
    child.process.kill('SIGKILL');
    const runner = createRunner({ backend, handlers: { [q]: async () => 'done' }, global: { waitMs: 200 } });
    runners.push(runner);
    const completed = collect<{ job: { id: string; attemptsMade: number; lastError?: { message: string } } }>(
      runner,
      'job:complete',
    );
    await runner.start();
    await eventually(() => completed.length === 1, 30_000, 'the job to be finished by the second runner');
    expect(completed[0]!.job).toMatchObject({ id, attemptsMade: 2, lastError: { message: 'lease expired' } });
  });
});

describe('runner on mysql: graceful shutdown', () => {
  it('lets in-flight jobs finish within the grace period', async () => {
    const q = queueName('grace');
    const runner = createRunner({
      backend,
      handlers: { [q]: () => delay(200) },
      global: { concurrency: 3, waitMs: 100 },
    });
    runners.push(runner);
    const started = collect(runner, 'job:start');
    const completed = collect(runner, 'job:complete');
    await runner.start();
    await new Client(backend).addMany(Array.from({ length: 3 }, () => ({ queue: q, payload: {} })));
    await eventually(() => started.length === 3, 30_000, 'three jobs to start');
    await runner.stop({ graceMs: 10_000 });
    expect(completed).toHaveLength(3);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0 });
  });

  it('SIGTERM to a runner process releases its unfinished job with the attempt given back, and it exits 0', async () => {
    const q = queueName('sigterm');
    const { id } = await new Client(backend).add(q, { ms: 60_000 }, { attempts: 2 });
    const child = startRunnerProcess(q, 200, 30_000);
    await child.line((l) => l.startsWith(`started ${id}`));
    child.process.kill('SIGTERM');
    await child.line((l) => l === `released ${id}`);
    expect(await child.exited).toBe(0);
    const job = await backend.inspector!.getJob(q, id);
    expect(job).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    const [again] = await backend.pop([q], { max: 1 });
    expect(again).toMatchObject({ id, attemptsMade: 1 });
    await backend.ack(again!);
  });
});

function startRunnerProcess(queue: string, graceMs: number, leaseMs: number) {
  const child = spawn(
    process.execPath,
    [fixture('runner-process.mjs'), runUrl, queue, String(graceMs), String(leaseMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
      for (const w of waiters.splice(0)) w();
    }),
  );
  return {
    process: child,
    exited,
    async line(match: (line: string) => boolean): Promise<string> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`runner process never printed the expected line; got: ${lines.join(' | ')}`);
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
    },
  };
}
