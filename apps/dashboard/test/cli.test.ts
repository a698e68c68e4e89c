import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteUrl } from './helpers/backends.js';

/**
 * `ilkkun dashboard` as a user runs it: the built CLI in a child process. The CLI depends on
 * this app, so it is built after it; `pnpm test` builds everything before any test runs.
 */
const BIN = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const SECRET = 'cli-secret-token-42';

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build`);
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** Wait (bounded) until stderr shows the dashboard's URL line. */
async function urlOf(r: Run): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const match = / on (http:\/\/127\.0\.0\.1:\d+)\//.exec(r.stderr());
    if (match) return match[1]!;
    if (r.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no URL printed; stderr:\n${r.stderr()}`);
}

describe('ilkkun dashboard', () => {
  const runs: Run[] = [];
  const db = sqliteUrl('cli');
  afterEach(async () => {
    for (const r of runs.splice(0)) {
      if (r.child.exitCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
    db.cleanup();
  });

  it('serves on loopback, prints the URL with the token redacted, and stops on SIGINT', async () => {
    const r = run(['dashboard', '--url', db.url, '--port', '0'], { ILKKUN_DASHBOARD_TOKEN: SECRET });
    runs.push(r);
    const url = await urlOf(r);
    expect(r.stderr()).toContain('#token=***');
    const meta = (await (await fetch(`${url}/api/meta`)).json()) as {
      backend: { name: string };
      tokenRequired: boolean;
    };
    expect(meta).toMatchObject({ backend: { name: 'sqlite' }, tokenRequired: true });
    const refused = await fetch(`${url}/api/token-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    const allowed = await fetch(`${url}/api/token-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
      body: '{}',
    });
    expect(allowed.status).toBe(200);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
    expect(r.stderr()).not.toContain(SECRET);
  });

  it('refuses a non-loopback host unless --allow-remote is given', async () => {
    const r = run(['dashboard', '--url', db.url, '--host', '0.0.0.0', '--port', '0']);
    runs.push(r);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain('error [CONFIG]: refusing to listen on 0.0.0.0');
    // allowed, but then only with a token or read-only
    const r2 = run(['dashboard', '--url', db.url, '--host', '0.0.0.0', '--allow-remote', '--port', '0']);
    runs.push(r2);
    expect(await r2.exited).toBe(2);
    expect(r2.stderr()).toContain('--token');
  });
});
