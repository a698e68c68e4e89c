import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The tests run the built CLI as a user would: `node dist/bin.js …` in a child process.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

let dir: string;

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (pnpm turbo run build)`);
  dir = mkdtempSync(join(tmpdir(), 'ilkkun-cli-test-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function ilkkun(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  delete env['FORCE_COLOR'];
  // pnpm puts the whole store on NODE_PATH; a user's shell does not
  delete env['NODE_PATH'];
  if (!options.env?.['ILKKUN_URL']) delete env['ILKKUN_URL'];
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh SQLite file per test: jobs must survive between the processes of one test. */
function sqliteUrl(name: string): string {
  return `sqlite:${join(dir, `${name}.db`)}`;
}

function statsJson(url: string, ...queues: string[]): Record<string, Record<string, number>> {
  const r = ilkkun(['--url', url, 'stats', '--json', ...queues]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const parsed = JSON.parse(r.stdout) as { queues: Array<{ queue: string } & Record<string, number>> };
  return Object.fromEntries(parsed.queues.map(({ queue, ...counts }) => [queue, counts]));
}

describe('ilkkun add + stats (sqlite, across processes)', () => {
  it('adds a job and stats shows it waiting', () => {
    const url = sqliteUrl('add-stats');
    const add = ilkkun(['--url', url, 'add', 'emails', '{"to":"a@example.com"}']);
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    expect(add.stdout.trim()).toMatch(/^\S+$/);

    expect(statsJson(url)).toEqual({ emails: { waiting: 1, delayed: 0, active: 0, completed: 0, dead: 0 } });

    const table = ilkkun(['--url', url, 'stats']);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('emails');
    expect(table.stdout).toMatch(/waiting/);
  });

  it('a delayed job counts as delayed', () => {
    const url = sqliteUrl('delayed');
    expect(ilkkun(['--url', url, 'add', 'later', '{}', '--delay', '600000']).status).toBe(0);
    expect(statsJson(url, 'later')['later']).toMatchObject({ waiting: 0, delayed: 1 });
  });

  it('reports a duplicate when the unique key is held', () => {
    const url = sqliteUrl('unique');
    const first = ilkkun(['--url', url, 'add', 'reports', '{"day":1}', '--unique-key', 'day-1']);
    expect(first.status).toBe(0);
    const id = first.stdout.trim();
    const second = ilkkun(['--url', url, 'add', 'reports', '{"day":1}', '--unique-key', 'day-1']);
    expect(second.status).toBe(0);
    expect(second.stdout.trim()).toBe(`duplicate of ${id}`);
    expect(statsJson(url, 'reports')['reports']?.['waiting']).toBe(1);
  });

  it('adds newline-delimited JSON from stdin in one batch with --many', () => {
    const url = sqliteUrl('many');
    const r = ilkkun(['--url', url, 'add', 'numbers', '-', '--many'], {
      input: '{"n":1}\n\n{"n":2}\n{"n":3}\n',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(statsJson(url, 'numbers')['numbers']?.['waiting']).toBe(3);
  });

  it('reads one payload from stdin with -', () => {
    const url = sqliteUrl('stdin');
    const r = ilkkun(['--url', url, 'add', 'one', '-', '--json'], { input: '{"big": [1, 2, 3]}' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ queue: 'one', duplicate: false });
  });

  it('uses ILKKUN_URL when --url is absent', () => {
    const url = sqliteUrl('env');
    expect(ilkkun(['add', 'viaenv', '{}'], { env: { ILKKUN_URL: url } }).status).toBe(0);
    expect(statsJson(url, 'viaenv')['viaenv']?.['waiting']).toBe(1);
  });
});

describe('ilkkun on memory: (one process)', () => {
  it('stats on an empty store says so', () => {
    const r = ilkkun(['--url', 'memory:', 'stats']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no queues hold jobs');
  });

  it('prints help and exits 0', () => {
    const r = ilkkun(['--help']);
    expect(r.status).toBe(0);
    for (const command of ['add', 'stats', 'conformance']) expect(r.stdout).toContain(command);
  });
});

describe('errors', () => {
  it('a bad queue name exits 2 with INVALID_QUEUE_NAME', () => {
    const r = ilkkun(['--url', 'memory:', 'add', 'no spaces!', '{}']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [INVALID_QUEUE_NAME]');
    expect(r.stderr).toContain('hint:');
    expect(r.stdout).toBe('');
  });

  it('bad JSON exits 2 and writes nothing', () => {
    const url = sqliteUrl('bad-json');
    const r = ilkkun(['--url', url, 'add', 'q', '{not json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [SERIALIZATION]');
    // refused before the backend was opened: no database file was created
    expect(existsSync(join(dir, 'bad-json.db'))).toBe(false);
  });

  it('bad JSON on one --many line names the line', () => {
    const r = ilkkun(['--url', 'memory:', 'add', 'q', '-', '--many'], { input: '{"ok":1}\n{oops}\n' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('line 2');
  });

  it('an out-of-range option exits 2 with INVALID_JOB_OPTIONS', () => {
    const r = ilkkun(['--url', 'memory:', 'add', 'q', '{}', '--attempts', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [INVALID_JOB_OPTIONS]');
  });

  it('a non-numeric option value is a usage error (exit 2)', () => {
    const r = ilkkun(['--url', 'memory:', 'add', 'q', '{}', '--priority', 'high']);
    expect(r.status).toBe(2);
  });

  it('an unknown command exits 2', () => {
    expect(ilkkun(['frobnicate']).status).toBe(2);
  });

  it('an unknown scheme exits 2 with CONFIG and an example URL', () => {
    const r = ilkkun(['--url', 'nosuch://127.0.0.1', 'stats']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [CONFIG]');
    expect(r.stderr).toContain('sqlite:./ilkkun.db');
  });

  // "not installed" (BACKEND_NOT_INSTALLED) is covered in core's tests: the CLI ships with
  // every backend of this repository, so from here every scheme resolves.

  describe('never prints credentials', () => {
    const cases: Array<[string, string[], Record<string, string>?]> = [
      ['--url with a password', ['--url', 'redis://user:s3cr3t-pw@127.0.0.1:1/0', 'stats']],
      ['--url=… with --debug', ['--debug', '--url=redis://user:s3cr3t-pw@127.0.0.1:1/0', 'stats']],
      ['unknown scheme', ['--debug', '--url', 'nosuch://user:s3cr3t-pw@host/db', 'add', 'q', '{}']],
      ['ILKKUN_URL', ['--debug', 'stats'], { ILKKUN_URL: 'mysql://root:s3cr3t-pw@127.0.0.1:1/test' }],
      [
        'secret query parameter',
        ['--debug', '--url', 'sqs://127.0.0.1:1?secretAccessKey=s3cr3t-pw', 'stats'],
      ],
      [
        'a commander error echoing argv',
        ['--url', 'redis://u:s3cr3t-pw@h', 'stats', '--bogus=redis://u:s3cr3t-pw@h'],
      ],
    ];
    it.each(cases)('%s', (_name, args, env) => {
      const r = ilkkun(args, env ? { env } : {});
      expect(r.status).not.toBe(0);
      expect(r.stderr.length).toBeGreaterThan(0);
      expect(r.stdout + r.stderr).not.toContain('s3cr3t');
    });
  });

  it('stats with an invalid queue name exits 2', () => {
    const r = ilkkun(['--url', 'memory:', 'stats', 'bad name']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [INVALID_QUEUE_NAME]');
  });
});

describe('a backend server that cannot be reached', () => {
  it('exits 1 with BACKEND_UNAVAILABLE, a hint, and never the password', () => {
    // a real backend package and a closed port: nothing listens on 127.0.0.1:1
    const r = ilkkun(['--url', 'mysql://root:s3cr3t-pw@127.0.0.1:1/test', 'stats']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error [BACKEND_UNAVAILABLE]');
    expect(r.stderr).toContain('mysql://root:***@127.0.0.1:1/test');
    expect(r.stdout + r.stderr).not.toContain('s3cr3t');
  });
});

describe('ilkkun conformance', () => {
  it('runs the suite against memory: and exits 0 with a passing report', () => {
    const r = ilkkun(['conformance', 'memory:', '--json'], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; backend: string; cases: Array<{ status: string }> };
    expect(report.ok).toBe(true);
    expect(report.backend).toBe('memory');
    expect(report.cases.some((c) => c.status === 'pass')).toBe(true);
    expect(report.cases.some((c) => c.status === 'fail')).toBe(false);
  }, 130_000);

  it('an unknown scheme is a CONFIG error before the suite starts (exit 2, no secret)', () => {
    const r = ilkkun(['conformance', 'nosuch://u:s3cr3t-pw@h']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [CONFIG]');
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('s3cr3t');
  });

  it('a missing url argument is a usage error', () => {
    expect(ilkkun(['conformance']).status).toBe(2);
  });
});
