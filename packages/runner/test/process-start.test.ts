import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '@ilkkun/core';
import { hasErrorCode } from '@ilkkun/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessExecutor } from '../src/child/process-executor.js';
import { defaultSettings } from '../src/config.js';
import { RunnerEmitter } from '../src/events.js';
import { createRunner } from '../src/index.js';
import {
  backendCases,
  client,
  collect,
  delay,
  eventually,
  fixture,
  queueName,
  useBackendCase,
} from './helpers.js';

/**
 * Issue 13, item 4: a child that dies while the pool starts is a crash, not a configuration
 * error. It is replaced (with backoff when children keep dying) and the pool starts; only a
 * handler module that fails to load stays a CONFIG failure at start.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilkkun-process-start-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of a fixture in this test's temp dir, so its marker and load log are its own. */
function handlerCopy(name: string): string {
  const path = join(dir, name);
  copyFileSync(fixture(name), path);
  return path;
}

/** Times (ms since epoch) at which children loaded the handler copy, in order. */
function loads(): number[] {
  const log = join(dir, 'loads.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Number(line.split(' ')[1]));
}

const sqlite = backendCases.find((c) => c.name === 'sqlite')!;

describe('process mode start-up on sqlite', () => {
  let backend!: Backend;
  const { start } = useBackendCase(sqlite, (b) => {
    backend = b;
  });

  it('a child SIGKILLed while starting is replaced: the pool starts and runs jobs, no CONFIG error', async () => {
    const q = queueName('start-sigkill');
    const runner = createRunner({
      backend,
      handlers: { [q]: handlerCopy('sigkill-first-load.mjs') },
      global: { mode: 'process', concurrency: 2, minWorkers: 2, waitMs: 100 },
    });
    const errors = collect(runner, 'error');
    const stops = collect(runner, 'worker:stop');
    const completed = collect(runner, 'job:complete');

    await start(runner); // rejected with CONFIG before the fix
    expect(runner.status().state).toBe('running');
    // the child that died was reported as a crash at start, under its own code
    const crash = errors.find((e) => hasErrorCode(e.error, 'WORKER_START_FAILED'));
    expect(crash, JSON.stringify(errors.map((e) => e.error.message))).toBeDefined();
    expect(crash!.error.message).toContain('SIGKILL');
    expect(errors.some((e) => hasErrorCode(e.error, 'CONFIG'))).toBe(false);
    expect(stops.some((s) => s.reason === 'crash' && s.signal === 'SIGKILL')).toBe(true);
    // minWorkers alive again: the dead child was replaced
    await eventually(
      () => runner.status().groups[0]!.workers.filter((w) => w.state === 'idle').length === 2,
      undefined,
      'two ready workers',
    );

    const deadPid = Number(readFileSync(join(dir, 'died-once'), 'utf8'));
    await client(backend).addMany(Array.from({ length: 4 }, (_, n) => ({ queue: q, payload: { n } })));
    await eventually(() => completed.length === 4, undefined, 'the four jobs to complete');
    for (const c of completed) expect((c.result as { pid: number }).pid).not.toBe(deadPid);
    await eventually(
      async () => {
        const counts = await backend.inspector!.counts(q);
        return counts.waiting === 0 && counts.active === 0;
      },
      undefined,
      'an empty queue',
    );
    expect(completed.map((c) => c.job.id).sort()).toEqual(
      [...new Set(completed.map((c) => c.job.id))].sort(),
    );
  });

  it('children that keep dying right away are respawned with a growing backoff, not in a tight loop', async () => {
    const q = queueName('start-respawn-loop');
    const runner = createRunner({
      backend,
      handlers: { [q]: handlerCopy('sigkill-after-first-load.mjs') },
      global: { mode: 'process', concurrency: 1, minWorkers: 1, waitMs: 100 },
    });
    const errors = collect(runner, 'error');
    await start(runner);
    const [first] = runner.status().groups[0]!.workers;
    expect(first?.state).toBe('idle');
    // from here on every replacement dies while loading its handler
    const killedAt = Date.now();
    process.kill(first!.pid, 'SIGKILL');
    await delay(3_500);
    // counted by the children's own clock, so a slow test process cannot inflate it: a tight loop
    // respawns as fast as node starts (8 to 20 children in 3 s here, depending on the load); the
    // backoff (100 ms doubling, jittered ±50 %) allows at most 6 with the fastest jitter and
    // start-up (0, 50, 150, 350, 750, 1550 ms; the next no sooner than 3150 ms)
    const inThreeSeconds = loads().filter((t) => t >= killedAt && t < killedAt + 3_000);
    expect(inThreeSeconds.length).toBeGreaterThanOrEqual(2);
    expect(inThreeSeconds.length).toBeLessThanOrEqual(6);
    const startErrors = errors.filter((e) => hasErrorCode(e.error, 'WORKER_START_FAILED'));
    expect(startErrors.length).toBeGreaterThanOrEqual(2);
    expect(startErrors[1]!.context).toMatch(/the next start in \d+ ms/);
    expect(runner.status().state).toBe('running');
  });
});

describe('process mode start-up: children that never start', () => {
  it('start() gives up after the last backoff round with WORKER_START_FAILED (exit 1 in the CLI), not CONFIG', async () => {
    const emitter = new RunnerEmitter();
    const errors: Error[] = [];
    emitter.on('error', ({ error }) => errors.push(error));
    const executor = new ProcessExecutor({
      group: 'default',
      specs: new Map([
        ['q', { kind: 'module', url: pathToFileURL(handlerCopy('sigkill-every-load.mjs')).href }],
      ]),
      settings: { ...defaultSettings().queue, mode: 'process', concurrency: 1, minWorkers: 1 },
      emitter,
      hooks: {},
      // the defaults (100 ms doubling to 5 s, 10 rounds) give up after ~20 s; the same path, faster
      respawn: { baseMs: 20, capMs: 40, maxStartFailures: 3 },
    });
    const err = await executor.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(err, 'WORKER_START_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/was killed by SIGKILL while starting.*3 rounds.*giving up/);
    // three children tried, the first two reported as they died; none left behind
    expect(loads()).toHaveLength(3);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'WORKER_START_FAILED',
      'WORKER_START_FAILED',
    ]);
    expect(executor.workers()).toEqual([]);
    await executor.close();
  });
});

describe('process mode start-up: a handler module that cannot load', () => {
  it('still fails start() fast with CONFIG, without respawning', async () => {
    const runner = createRunner({
      backend: 'memory:',
      handlers: { q: handlerCopy('broken-counted.mjs') },
      global: { mode: 'process', concurrency: 2, minWorkers: 2 },
    });
    const startedAt = Date.now();
    const err = await runner.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(err, 'CONFIG')).toBe(true);
    expect((err as Error).message).toContain('this handler module is broken');
    // well inside the 30 s start timeout: the child said why over IPC and was not replaced
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    await delay(300);
    expect(loads().length).toBeLessThanOrEqual(2);
    expect(runner.status().state).toBe('stopped');
  });
});
