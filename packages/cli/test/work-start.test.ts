import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, ilkkun, userEnv } from './run-cli.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ilkkun-work-start-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A handler whose first load SIGKILLs its own process (the `died-once` marker is created
 * exclusively, so exactly one child dies), as the OOM killer would during start-up.
 */
const SIGKILL_FIRST_LOAD = `
import { writeFileSync } from 'node:fs';
let first = false;
try {
  writeFileSync(new URL('./died-once', import.meta.url), String(process.pid), { flag: 'wx' });
  first = true;
} catch {}
if (first) process.kill(process.pid, 'SIGKILL');
export default async (job) => ({ pid: process.pid });
`;

describe('ilkkun work: a child that dies while the pool starts (issue 13, item 4)', () => {
  it('is replaced: the pool runs the jobs and exits 0 on SIGTERM, no CONFIG error', async () => {
    const url = `sqlite:${join(dir, 'work.db')}`;
    writeFileSync(join(dir, 'handler.mjs'), SIGKILL_FIRST_LOAD);
    writeFileSync(
      join(dir, 'ilkkun.config.json'),
      JSON.stringify({
        queues: { 'start.q': './handler.mjs' },
        global: { mode: 'process', concurrency: 2, minWorkers: 2, waitMs: 100 },
        graceMs: 1000,
      }),
    );
    for (const n of [1, 2, 3]) {
      expect(ilkkun(['--url', url, 'add', 'start.q', `{"n":${n}}`], dir).stderr).toBe('');
    }

    const run = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, '--url', url, 'work', '--no-live'], {
        cwd: dir,
        env: userEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let signalled = false;
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (!signalled && (out.match(/job:complete/g) ?? []).length >= 3) {
          signalled = true;
          child.kill('SIGTERM');
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      // bounded: a pool that never runs the jobs is stopped here and the assertions say why
      const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(guard);
        resolve({ code, out });
      });
    });

    expect(run.out).not.toContain('[CONFIG]');
    expect(run.out).toMatch(/WorkerStartError: worker process \d+ was killed by SIGKILL while starting/);
    expect((run.out.match(/job:complete/g) ?? []).length).toBe(3);
    const deadPid = readFileSync(join(dir, 'died-once'), 'utf8');
    expect(run.out).toContain(`worker:stop pid=${deadPid} reason=crash jobs=0 signal=SIGKILL`);
    expect(run.code).toBe(0);
  }, 40_000);

  it('a handler module that throws while loading stays a fast CONFIG failure (exit 2) with a hint about the module', () => {
    const sub = join(dir, 'broken');
    mkdirSync(sub);
    writeFileSync(join(sub, 'handler.mjs'), "throw new Error('this handler module is broken');\n");
    writeFileSync(
      join(sub, 'ilkkun.config.json'),
      JSON.stringify({
        queues: { 'broken.q': './handler.mjs' },
        global: { mode: 'process', concurrency: 2, minWorkers: 2 },
      }),
    );
    const r = ilkkun(['--url', 'memory:', 'work', '--no-live'], sub);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /error \[CONFIG\]: \[default\] a handler module failed to load in worker process \d+: .*this handler module is broken/,
    );
    expect(r.stderr).toContain('hint: fix the handler module or its path in the config');
    expect(r.stderr).not.toContain('a backend URL looks like');
  });
});
