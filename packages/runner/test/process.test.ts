import { spawn } from 'node:child_process';
import type { Backend } from '@ilkkun/core';
import { ConfigError, createMemoryBackend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner, WorkerCrashedError } from '../src/index.js';
import {
  backendCases,
  client,
  collect,
  delay,
  eventually,
  fixture,
  queueName,
  serverBackendCases,
  useBackendCase,
} from './helpers.js';

describe.each([...backendCases, ...serverBackendCases])('process mode on $name', (backendCase) => {
  let backend!: Backend;
  const { runners, start } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('runs handler modules in child processes', async () => {
    const q = queueName('proc-echo');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('echo.mjs') },
      global: { mode: 'process', concurrency: 2, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    await start(runner);
    await client(backend).addMany(Array.from({ length: 6 }, (_, n) => ({ queue: q, payload: { n } })));
    await eventually(() => completed.length === 6);
    for (const c of completed) {
      const result = c.result as { pid: number; payload: { n: number } };
      expect(result.pid).not.toBe(process.pid);
      expect(result.payload).toEqual(c.job.payload);
    }
  });

  it('replaces a crashed child and retries its job with the attempt counted', async () => {
    const q = queueName('proc-crash');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('crash-once.mjs') },
      global: { mode: 'process', concurrency: 1, minWorkers: 1, waitMs: 100 },
    });
    const fails = collect(runner, 'job:fail');
    const completed = collect(runner, 'job:complete');
    const stops = collect(runner, 'worker:stop');
    const starts = collect(runner, 'worker:start');
    await start(runner);
    const firstPid = starts[0]!.worker.pid;
    const { id } = await client(backend).add(q, {}, { attempts: 3, backoff: 0 });
    await eventually(() => completed.length === 1, undefined, 'the retried job to complete');
    expect(fails).toHaveLength(1);
    expect(fails[0]!.error).toMatchObject({ name: 'WorkerCrashedError', attempt: 1 });
    expect(fails[0]!.error.message).toContain('exited with code 3');
    expect(fails[0]!.willRetry).toBe(true);
    expect(stops.some((s) => s.reason === 'crash' && s.worker.pid === firstPid && s.exitCode === 3)).toBe(
      true,
    );
    expect(completed[0]!.job.id).toBe(id);
    expect(completed[0]!.job.attemptsMade).toBe(2);
    expect((completed[0]!.result as { pid: number }).pid).not.toBe(firstPid);
    expect(new WorkerCrashedError(1, 3, null)).toBeInstanceOf(Error);
  });

  it('a child SIGKILLed from outside mid-job: the job is redone and completed exactly once, nothing lost or left active', async () => {
    const q = queueName('proc-sigkill');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('sleep.mjs') },
      global: { mode: 'process', concurrency: 2, minWorkers: 1, waitMs: 100 },
    });
    const starts = collect(runner, 'job:start');
    const completed = collect(runner, 'job:complete');
    const fails = collect(runner, 'job:fail');
    const stops = collect(runner, 'worker:stop');
    await start(runner);
    const ids = (
      await client(backend).addMany(
        Array.from({ length: 6 }, () => ({ queue: q, payload: { ms: 600 }, attempts: 3, backoff: 0 })),
      )
    ).map((r) => r.id);
    const victim = ids[0]!;
    // the pid comes from the scoreboard, as an operator would find it (/status)
    const slot = await eventually(
      () => runner.status().groups[0]!.slots.find((s) => s.jobId === victim && s.pid !== undefined),
      undefined,
      'the first job to be running in a child',
    );
    const pid = slot.pid!;
    expect(pid).not.toBe(process.pid);
    process.kill(pid, 'SIGKILL');
    await eventually(() => completed.length === ids.length, undefined, 'every job to complete');
    // give a would-be duplicate the time to show up
    await delay(300);
    const perId = new Map<string, number>();
    for (const c of completed) perId.set(c.job.id, (perId.get(c.job.id) ?? 0) + 1);
    expect([...perId.keys()].sort()).toEqual([...ids].sort());
    for (const n of perId.values()) expect(n).toBe(1);
    // the victim failed once (crash, attempt counted) and ran again in another child
    expect(fails).toHaveLength(1);
    expect(fails[0]!.job.id).toBe(victim);
    expect(fails[0]!.error).toMatchObject({ name: 'WorkerCrashedError', attempt: 1 });
    expect(fails[0]!.willRetry).toBe(true);
    expect(stops.find((s) => s.worker.pid === pid)).toMatchObject({ reason: 'crash', signal: 'SIGKILL' });
    const redo = completed.find((c) => c.job.id === victim)!;
    expect(redo.job.attemptsMade).toBe(2);
    expect((redo.result as { pid: number }).pid).not.toBe(pid);
    expect(starts.filter((s) => s.job.id === victim)).toHaveLength(2);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 0 });
  });

  it('recycles a child after maxJobsPerWorker jobs', async () => {
    const q = queueName('proc-recycle');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('echo.mjs') },
      global: { mode: 'process', concurrency: 1, maxJobsPerWorker: 2, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    const stops = collect(runner, 'worker:stop');
    await start(runner);
    await client(backend).addMany(Array.from({ length: 6 }, () => ({ queue: q, payload: {} })));
    await eventually(() => completed.length === 6);
    const pids = completed.map((c) => (c.result as { pid: number }).pid);
    const perPid = new Map<number, number>();
    for (const p of pids) perPid.set(p, (perPid.get(p) ?? 0) + 1);
    expect(perPid.size).toBe(3);
    for (const n of perPid.values()) expect(n).toBe(2);
    await eventually(() => stops.filter((s) => s.reason === 'recycle').length >= 2);
  });

  it('kills a child that ignores its timeout, fails the job and carries on with a new child', async () => {
    const q = queueName('proc-timeout');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('stubborn.mjs') },
      global: { mode: 'process', concurrency: 1, timeoutMs: 300, killGraceMs: 200, waitMs: 100 },
    });
    const fails = collect(runner, 'job:fail');
    const completed = collect(runner, 'job:complete');
    const stops = collect(runner, 'worker:stop');
    await start(runner);
    const c = client(backend);
    await c.add(q, { ms: 20_000 }, { attempts: 1 });
    await eventually(
      () => stops.some((s) => s.reason === 'timeout'),
      undefined,
      'the stubborn child to be killed',
    );
    expect(fails[0]!.error.name).toBe('JobTimeoutError');
    expect(stops.find((s) => s.reason === 'timeout')!.signal).toBe('SIGKILL');
    await c.add(q, { ms: 10 });
    await eventually(() => completed.length === 1);
  });

  // The child spins for 2.5 leases without yielding; the runner renews from its own process.
  // The lease is 1 s, not shorter: a heartbeat has half a lease of slack, and on a loaded 2-core
  // machine (the whole suite running) timers ran >100 ms late, which lost a 200 ms lease.
  it('keeps the lease of a CPU-bound child alive from the runner', async () => {
    const q = queueName('proc-cpu');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('stubborn.mjs') },
      global: { mode: 'process', concurrency: 1, leaseMs: 1_000, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    const starts = collect(runner, 'job:start');
    await start(runner);
    await client(backend).add(q, { ms: 2_500 });
    await eventually(() => starts.length === 1);
    const stolen: string[] = [];
    const deadline = Date.now() + 15_000;
    while (completed.length === 0 && Date.now() < deadline) {
      for (const j of await backend.pop([q], { leaseMs: 1_000 })) {
        stolen.push(j.id);
        await backend.requeue(j, { release: true });
      }
      await delay(20);
    }
    expect(stolen).toEqual([]);
    expect(starts).toHaveLength(1);
    expect(completed).toHaveLength(1);
  });

  it('never runs more children at once than concurrency; grows to max when busy, shrinks one at a time to min when idle', async () => {
    const q = queueName('proc-grow');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('sleep.mjs') },
      global: { mode: 'process', concurrency: 3, minWorkers: 1, workerIdleMs: 300, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    const workerStops = collect(runner, 'worker:stop');
    const logs = collect(runner, 'job:log');
    // children alive at once, counted from the runner's own events
    let alive = 0;
    let mostAlive = 0;
    let mostBusy = 0;
    runner.on('worker:start', () => {
      alive++;
      mostAlive = Math.max(mostAlive, alive);
    });
    runner.on('worker:stop', () => alive--);
    runner.on('job:start', () => {
      mostBusy = Math.max(mostBusy, runner.busy);
    });
    await start(runner);
    expect(runner.status().groups[0]!.workers).toHaveLength(1);
    await client(backend).addMany(Array.from({ length: 12 }, () => ({ queue: q, payload: { ms: 300 } })));
    await eventually(() => completed.length === 12);
    const spans = completed.map((c) => c.result as { pid: number; startedAt: number; endedAt: number });
    expect(new Set(spans.map((s) => s.pid)).size).toBeLessThanOrEqual(3);
    expect(new Set(spans.map((s) => s.pid)).size).toBeGreaterThan(1);
    // at no instant did more than 3 handlers overlap
    for (const s of spans) {
      const overlapping = spans.filter((o) => o.startedAt <= s.startedAt && o.endedAt > s.startedAt).length;
      expect(overlapping).toBeLessThanOrEqual(3);
    }
    expect(logs[0]).toMatchObject({ message: 'slept', data: { ms: 300 } });
    // under load: grew to max (3 children, all 3 slots busy at once), never beyond
    expect(mostAlive).toBe(3);
    expect(mostBusy).toBe(3);
    await eventually(
      () => runner.status().groups[0]!.workers.length === 1,
      undefined,
      'shrinking back to minWorkers',
    );
    // idle: back to min, by stopping the two spares (one at a time), nothing else
    expect(workerStops.map((s) => s.reason)).toEqual(['idle', 'idle']);
    expect(workerStops[0]!.worker.pid).not.toBe(workerStops[1]!.worker.pid);
    expect(alive).toBe(1);
    expect(runner.scoreboard()).toBe('_.. 0/3 busy');
  });

  it('forwards ctx.extend from the child to the runner', async () => {
    const q = queueName('proc-extend');
    const runner = createRunner({
      backend,
      handlers: { [q]: { module: fixture('sleep.mjs'), export: 'extendOnly' } },
      global: { mode: 'process', concurrency: 1, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    await start(runner);
    const before = Date.now();
    await client(backend).add(q, {});
    await eventually(() => completed.length === 1);
    expect((completed[0]!.result as { deadline: number }).deadline).toBeGreaterThanOrEqual(before + 60_000);
  });

  it('releases in-flight jobs of children on stop and stops every child', async () => {
    const q = queueName('proc-stop');
    const runner = createRunner({
      backend,
      handlers: { [q]: fixture('stubborn.mjs') },
      global: { mode: 'process', concurrency: 2, waitMs: 100 },
    });
    runners.push(runner);
    const starts = collect(runner, 'job:start');
    const released = collect(runner, 'job:release');
    const workerStops = collect(runner, 'worker:stop');
    await runner.start();
    const ids = (
      await client(backend).addMany([
        { queue: q, payload: { ms: 20_000 } },
        { queue: q, payload: { ms: 20_000 } },
      ])
    ).map((r) => r.id);
    await eventually(() => starts.length === 2);
    const pids = runner.status().groups[0]!.workers.map((w) => w.pid);
    await runner.stop({ graceMs: 100 });
    expect(released.map((r) => r.job.id).sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await backend.inspector!.getJob(q, id))?.attemptsMade).toBe(0);
    for (const pid of pids) expect(workerStops.some((s) => s.worker.pid === pid)).toBe(true);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('process mode configuration', () => {
  it('fails start() when a handler module cannot load', async () => {
    const runner = createRunner({
      backend: 'memory:',
      handlers: { q: fixture('broken.mjs') },
      global: { mode: 'process' },
    });
    await expect(runner.start()).rejects.toThrow(ConfigError);
    await expect(runner.start()).rejects.toThrow(/starts once/);
  });

  it('a stop() during start() waits for the start, then stops everything it started', async () => {
    const backend = createMemoryBackend();
    const runner = createRunner({
      backend,
      handlers: { 'stop.during.start': fixture('echo.mjs') },
      global: { mode: 'process', minWorkers: 2, concurrency: 2, waitMs: 100 },
    });
    const workerStops = collect(runner, 'worker:stop');
    const starting = runner.start();
    await runner.stop();
    await starting;
    expect(runner.status().state).toBe('stopped');
    expect(runner.status().groups[0]!.workers).toEqual([]);
    expect(workerStops).toHaveLength(2);
    await client(backend).add('stop.during.start', {});
    await delay(300);
    expect(await backend.inspector!.counts('stop.during.start')).toMatchObject({ waiting: 1, active: 0 });
  });

  it('stops gracefully on SIGTERM and exits 0; a second signal forces exit', async () => {
    const run = (graceMs: number, signals: number) =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture('signal-runner.mjs'), String(graceMs)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('started') && signals > 0) {
            child.kill('SIGTERM');
            // a second, separate signal (two sent at once may merge into one pending signal)
            if (signals > 1) setTimeout(() => child.kill('SIGTERM'), 300);
            signals = 0;
          }
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, out }));
      });
    const graceful = await run(200, 1);
    expect(graceful.code).toBe(0);
    expect(graceful.out).toMatch(/released \d+/);
    expect(graceful.out).toContain('stopped released=1');
    const forced = await run(30_000, 2);
    expect(forced.code).toBe(143);
    expect(forced.out).not.toContain('stopped');
  });
});
