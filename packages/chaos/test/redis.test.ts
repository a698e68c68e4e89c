import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SCENARIO_NAMES } from '../dist/index.js';
import { chaos, expectClean, FULL } from './chaos-case.js';

const urls = inject('chaosUrls');

/**
 * The restart scenario kills a server, so it gets a redis-server of its own on a free loopback
 * port (never the shared 6379), with appendonly and appendfsync always: an ack the server
 * confirmed is on disk before the kill -9, so a restart may repeat work but never undo an ack.
 */
let own: { dir: string; port: number; script: string } | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

function ownPid(dir: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, 'redis.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilkkun-chaos-redis-'));
  const port = await freePort();
  const script = join(dir, 'restart.sh');
  // start.sh: (re)start; restart.sh: kill -9 the running one first. Both wait for PONG (≤ 10 s).
  const start = [
    `redis-server --bind 127.0.0.1 --port ${port} --dir ${dir} --appendonly yes --appendfsync always`,
    `--save '' --daemonize yes --pidfile ${dir}/redis.pid --logfile ${dir}/redis.log`,
  ].join(' ');
  const wait = `for i in $(seq 100); do redis-cli -p ${port} ping 2>/dev/null | grep -q PONG && exit 0; sleep 0.1; done; exit 1`;
  writeFileSync(join(dir, 'start.sh'), `set -e\n${start}\n${wait}\n`);
  writeFileSync(
    script,
    [
      'set -e',
      `pid=$(cat ${dir}/redis.pid)`,
      'kill -9 "$pid"',
      // the port is free once the killed server is gone
      'while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done',
      `rm -f ${dir}/redis.pid`,
      start,
      wait,
    ].join('\n'),
  );
  execFileSync('/bin/sh', [join(dir, 'start.sh')], { timeout: 15_000 });
  own = { dir, port, script };
});

afterAll(() => {
  if (!own) return;
  const pid = ownPid(own.dir);
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(own.dir, { recursive: true, force: true });
});

describe('ilkkun chaos on redis', () => {
  it('child kills, connection cuts and a silent link lose nothing (shared server, db 12)', async () => {
    const mine = ['kill-children', 'cut-connections', 'silent-connection'] as const;
    const all = SCENARIO_NAMES.filter((s) => s !== 'server-restart');
    const report = await chaos(urls.redis, mine);
    expectClean(report, FULL ? all : mine);
    // without --restart-cmd the restart scenario is skipped, and says how to run it
    if (FULL) {
      const restart = report.scenarios.find((s) => s.scenario === 'server-restart');
      expect(restart?.status).toBe('skipped');
      expect(restart?.note).toContain('--restart-cmd');
    }
  });

  it('a kill -9 and restart of its own redis-server (appendfsync always) loses nothing', async () => {
    const url = `redis://127.0.0.1:${own!.port}/0`;
    const report = await chaos(url, ['server-restart', 'kill-workers-process'], {
      scenarios: ['server-restart', 'kill-workers-process'],
      restartCmd: `sh ${own!.script}`,
      faults: 1,
    });
    expectClean(report, ['server-restart', 'kill-workers-process']);
  });
});
