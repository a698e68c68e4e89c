import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendModule } from '@ilkkun/core';
import { Client } from '@ilkkun/core';
import { afterEach, describe, expect, it } from 'vitest';
import { backendCases, eventually, fixture, queueName } from './helpers.js';

const hasSqlite = backendCases.some((c) => c.name === 'sqlite');
const JOBS = 300;

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

/** every id that appears more than once */
const repeated = (ids: readonly string[]): string[] => {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
};

describe.skipIf(!hasSqlite)('SIGTERM under load, runner in a separate OS process (sqlite)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0; every job is completed exactly once or back in waiting, none lost, none active', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ilkkun-sigterm-'));
    dirs.push(dir);
    const db = join(dir, 'load.db');
    const runsFile = join(dir, 'runs.txt');
    const completedFile = join(dir, 'completed.txt');
    const q = queueName('sigterm-load');
    const { createBackend } = (await import('@ilkkun/sqlite')) as BackendModule;
    let backend: Backend = await createBackend(`sqlite:${db}`);
    const ids = (
      await new Client(backend).addMany(
        Array.from({ length: JOBS }, (_, n) => ({ queue: q, payload: { n } })),
      )
    ).map((r) => r.id);
    await backend.close();

    const child = spawn(process.execPath, [fixture('load-runner.mjs'), db, q, runsFile, completedFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    try {
      // mid-run: some jobs done, most still to do (300 jobs of 15-20 ms on 4 slots take over a second)
      await eventually(() => lines(completedFile).length >= 40, 20_000, 'the first completions');
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: '' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(out).toMatch(/stopped released=\d+/);

    backend = await createBackend(`sqlite:${db}`);
    try {
      const counts = await backend.inspector!.counts(q);
      const waiting: string[] = [];
      for (let offset = 0; ; offset += 1_000) {
        const page = await backend.inspector!.list(q, 'waiting', { offset, limit: 1_000 });
        waiting.push(...page.map((j) => j.id));
        if (page.length < 1_000) break;
      }
      const completed = lines(completedFile);
      const runs = lines(runsFile);
      expect(counts).toMatchObject({ active: 0, delayed: 0, dead: 0, waiting: waiting.length });
      // the signal really landed mid-run
      expect(completed.length).toBeLessThan(JOBS);
      expect(waiting.length).toBeGreaterThan(0);
      // nothing duplicated: no id completed twice, no handler ran twice, no completed job back in waiting
      expect(repeated(completed)).toEqual([]);
      expect(repeated(runs)).toEqual([]);
      expect(completed.filter((id) => waiting.includes(id))).toEqual([]);
      expect([...runs].sort()).toEqual([...completed].sort());
      // nothing lost: completed ∪ waiting = every id
      expect([...completed, ...waiting].sort()).toEqual([...ids].sort());
      // and the jobs left behind were given back unattempted (a deploy burns no retries)
      for (const job of await backend.inspector!.list(q, 'waiting', { limit: 1_000 })) {
        expect(job.attemptsMade).toBe(0);
      }
    } finally {
      await backend.close();
    }
  });
});
