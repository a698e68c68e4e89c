import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Backend,
  BackendClosedError,
  BackendUnavailableError,
  ConfigError,
  LEASE_EXPIRED_MESSAGE,
  type NewJob,
  openBackend,
  sleep,
} from '@ilkkun/core';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBackend, parseSqliteUrl, SCHEMA_VERSION, SqliteBackend } from '../src/index.js';
import { killChildren, removeTempDirs, spawnFixture, tempDbFile, tempDir } from './helpers.js';

const job = (queue: string, payload: unknown = {}, extra: Partial<NewJob> = {}): NewJob => ({
  queue,
  payload: JSON.stringify(payload),
  priority: 0,
  runAt: new Date(),
  maxAttempts: 3,
  ...extra,
});

const open: Backend[] = [];
async function backendOn(file: string, options?: Record<string, unknown>): Promise<Backend> {
  const backend = await createBackend(`sqlite:${file}`, options);
  open.push(backend);
  return backend;
}

afterEach(async () => {
  killChildren();
  for (const backend of open.splice(0)) await backend.close();
});
afterAll(removeTempDirs);

describe('sqlite URLs', () => {
  const cwd = '/srv/app';

  it('resolves relative paths against the working directory and accepts absolute forms', () => {
    expect(parseSqliteUrl('sqlite:./ilkkun.db', cwd).file).toBe('/srv/app/ilkkun.db');
    expect(parseSqliteUrl('sqlite:data/jobs.db', cwd).file).toBe('/srv/app/data/jobs.db');
    expect(parseSqliteUrl('sqlite:../jobs.db', cwd).file).toBe('/srv/jobs.db');
    expect(parseSqliteUrl('sqlite:/var/lib/jobs.db', cwd).file).toBe('/var/lib/jobs.db');
    expect(parseSqliteUrl('sqlite:///var/lib/jobs.db', cwd).file).toBe('/var/lib/jobs.db');
    expect(parseSqliteUrl('SQLITE:./x.db', cwd).file).toBe('/srv/app/x.db');
    expect(parseSqliteUrl('sqlite:./my%20jobs.db', cwd).file).toBe('/srv/app/my jobs.db');
    expect(parseSqliteUrl('sqlite:./x.db?busyTimeoutMs=100&synchronous=full', cwd).params).toEqual({
      busyTimeoutMs: '100',
      synchronous: 'full',
    });
  });

  it.each([
    ['sqlite::memory:', /memory:/],
    ['sqlite:', /no file path/],
    ['sqlite://db.example.com/jobs.db', /host/],
    ['sqlite:./dir/', /directory/],
    ['sqlite:~/jobs.db', /not expanded/],
    ['sqlite:./x.db#frag', /fragment/],
    ['sqlite:./%E0%A4%A.db', /%-escape/],
    ['sqlite:./x.db?a=1&a=2', /twice/],
    ['redis://127.0.0.1:6379', /not a sqlite URL/],
  ])('rejects %s with a ConfigError', (url, message) => {
    expect(() => parseSqliteUrl(url, cwd)).toThrow(ConfigError);
    expect(() => parseSqliteUrl(url, cwd)).toThrow(message);
  });

  it.each([
    ['?foo=1', undefined, /unknown sqlite URL parameter "foo"/],
    ['?busyTimeoutMs=soon', undefined, /busyTimeoutMs/],
    ['?synchronous=off', undefined, /synchronous/],
    ['?pollMaxMs=0', undefined, /pollMaxMs/],
    ['', { busyTimout: 5 }, /unknown sqlite option "busyTimout"/],
    ['', { synchronous: 2 }, /synchronous/],
  ])(
    'createBackend refuses bad options (%s %o) before creating anything',
    async (query, options, message) => {
      const file = tempDbFile();
      await expect(createBackend(`sqlite:${file}${query}`, options)).rejects.toThrow(message);
      await expect(createBackend(`sqlite:${file}${query}`, options)).rejects.toBeInstanceOf(ConfigError);
      expect(existsSync(file)).toBe(false);
    },
  );

  it('creates missing parent directories', async () => {
    const file = join(tempDir(), 'a', 'b', 'jobs.db');
    const backend = await backendOn(file);
    await backend.push([job('mkdir')]);
    expect(existsSync(file)).toBe(true);
  });

  it('opens through core openBackend with URL options', async () => {
    const file = tempDbFile();
    const backend = await openBackend(`sqlite://${file}?busyTimeoutMs=1000&synchronous=FULL&pollMaxMs=20`, {
      importer: () => import('../src/index.js'),
    });
    open.push(backend);
    expect(backend.name).toBe('sqlite');
    expect(backend.capabilities).toMatchObject({ multiProcess: true, durable: true, nativeWait: false });
  });

  it('reports a file that is not a database as a ConfigError', async () => {
    const file = tempDbFile();
    writeFileSync(file, 'this is not an sqlite database, just text long enough to have a header '.repeat(20));
    await expect(createBackend(`sqlite:${file}`)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('schema', () => {
  it('migrates once: reopening (sequentially and side by side) keeps data and version', async () => {
    const file = tempDbFile();
    const first = await backendOn(file);
    const [pushed] = await first.push([job('schema', { n: 1 })]);
    await first.close();

    const again = await backendOn(file);
    const alongside = await backendOn(file);
    expect(await alongside.inspector!.getJob('schema', pushed!.id)).toMatchObject({ payload: '{"n":1}' });
    const [popped] = await again.pop(['schema']);
    expect(popped?.id).toBe(pushed!.id);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const objects = raw
        .prepare("SELECT type, name FROM sqlite_master WHERE name LIKE 'ilkkun_%' ORDER BY name")
        .all();
      expect(objects).toEqual([
        { type: 'table', name: 'ilkkun_jobs' },
        { type: 'index', name: 'ilkkun_jobs_due' },
        { type: 'index', name: 'ilkkun_jobs_lease' },
        { type: 'index', name: 'ilkkun_jobs_pop' },
        { type: 'index', name: 'ilkkun_jobs_unique' },
      ]);
    } finally {
      raw.close();
    }
  });

  it('refuses a file written by a newer schema', async () => {
    const file = tempDbFile();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    await expect(createBackend(`sqlite:${file}`)).rejects.toThrow(/newer/);
  });
});

describe('durability', () => {
  it('keeps pushed jobs, with every field, across close and reopen', async () => {
    const file = tempDbFile();
    const writer = await backendOn(file);
    const runAt = new Date(Date.now() - 1000);
    const [pushed] = await writer.push([
      job(
        'durable',
        { hello: 'wörld', list: [1, 2] },
        {
          priority: 7,
          runAt,
          maxAttempts: 4,
          uniqueKey: 'u-1',
          backoff: { type: 'fixed', delayMs: 250 },
        },
      ),
    ]);
    await writer.close();

    const reader = await backendOn(file);
    const [popped] = await reader.pop(['durable']);
    expect(popped).toMatchObject({
      id: pushed!.id,
      queue: 'durable',
      payload: '{"hello":"wörld","list":[1,2]}',
      priority: 7,
      runAt,
      attemptsMade: 1,
      maxAttempts: 4,
      uniqueKey: 'u-1',
      backoff: { type: 'fixed', delayMs: 250 },
    });
  });

  it('a job leased when its backend closed comes back after the lease, with the attempt counted', async () => {
    const file = tempDbFile();
    const first = await backendOn(file);
    const [pushed] = await first.push([job('inflight')]);
    const [leased] = await first.pop(['inflight'], { leaseMs: 50 });
    expect(leased?.id).toBe(pushed!.id);
    await first.close();

    const second = await backendOn(file);
    const [again] = await second.pop(['inflight'], { waitMs: 10_000 });
    expect(again).toMatchObject({
      id: pushed!.id,
      attemptsMade: 2,
      lastError: { message: LEASE_EXPIRED_MESSAGE },
    });
    await second.ack(again!);
    await expect(second.inspector!.counts('inflight')).resolves.toEqual({
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 0,
      dead: 0,
    });
  });
});

describe('close', () => {
  it('throws BackendClosedError afterwards; a second close is harmless', async () => {
    const backend = await backendOn(tempDbFile());
    const [pushed] = await backend.push([job('closing')]);
    await backend.close();
    await backend.close();
    const handle = { id: pushed!.id, queue: 'closing', lease: { token: 'x' } };
    await expect(backend.push([job('closing')])).rejects.toBeInstanceOf(BackendClosedError);
    await expect(backend.pop(['closing'])).rejects.toBeInstanceOf(BackendClosedError);
    await expect(backend.ack(handle)).rejects.toBeInstanceOf(BackendClosedError);
    await expect(backend.requeue(handle)).rejects.toBeInstanceOf(BackendClosedError);
    await expect(backend.extend(handle, 1000)).rejects.toBeInstanceOf(BackendClosedError);
    await expect(backend.inspector!.counts('closing')).rejects.toBeInstanceOf(BackendClosedError);
  });

  it('ends a waiting pop with [] when the backend closes', async () => {
    const backend = await backendOn(tempDbFile());
    const started = Date.now();
    const waiting = backend.pop(['closing-wait'], { waitMs: 30_000 });
    await sleep(20);
    await backend.close();
    await expect(waiting).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('waiting pops in one process', () => {
  it('a push through another instance on the same file (even via a symlink) wakes a waiting pop', async () => {
    const dir = tempDir();
    const file = join(dir, 'real.db');
    const link = join(dir, 'link.db');
    const consumer = await backendOn(file);
    symlinkSync(file, link);
    const producer = await backendOn(link);
    const waitMs = 30_000;
    const started = Date.now();
    const waiting = consumer.pop(['wake-local'], { waitMs });
    await sleep(20);
    const [pushed] = await producer.push([job('wake-local')]);
    const jobs = await waiting;
    expect(jobs.map((j) => j.id)).toEqual([pushed!.id]);
    expect(Date.now() - started).toBeLessThan(waitMs);
  });

  it('aborting the signal ends the wait with []', async () => {
    const backend = await backendOn(tempDbFile());
    const controller = new AbortController();
    const waitMs = 30_000;
    const started = Date.now();
    const waiting = backend.pop(['abort-me'], { waitMs, signal: controller.signal });
    await sleep(20);
    controller.abort();
    await expect(waiting).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(waitMs);
  });
});

describe('lock contention', () => {
  it('a write that outlasts busy_timeout fails with a retryable BackendUnavailableError and changes nothing', async () => {
    const file = tempDbFile();
    const backend = await backendOn(file, { busyTimeoutMs: 50 });
    const blocker = new Database(file);
    try {
      blocker.exec('BEGIN EXCLUSIVE');
      const failure = await backend.push([job('busy')]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(BackendUnavailableError);
      expect((failure as BackendUnavailableError).retryable).toBe(true);
      expect(String((failure as { cause?: { code?: unknown } }).cause?.code)).toMatch(/^SQLITE_BUSY/);
      blocker.exec('ROLLBACK');
    } finally {
      blocker.close();
    }
    expect((await backend.inspector!.counts('busy')).waiting).toBe(0);
    await backend.push([job('busy')]);
    expect((await backend.inspector!.counts('busy')).waiting).toBe(1);
  });
});

describe('several OS processes on one file', () => {
  it('delivers each of 500 jobs exactly once across two child processes and the parent', {
    timeout: 60_000,
  }, async () => {
    const file = tempDbFile();
    const url = `sqlite:${file}`;
    const queue = 'multi-process';
    const producer = await backendOn(file);
    const total = 500;
    const pushed = await producer.push(Array.from({ length: total }, (_, i) => job(queue, { i })));
    expect(pushed.every((r) => !r.duplicate)).toBe(true);

    const children = [
      spawnFixture('pop-worker.mjs', [url, queue, '1000']),
      spawnFixture('pop-worker.mjs', [url, queue, '1000']),
    ];
    for (const child of children) expect(await child.nextMessage()).toEqual({ ready: true });

    // The parent competes with the children through its own connection, all starting together.
    const consumer = await backendOn(file);
    for (const child of children) child.send('go');
    const parentAcked: { id: string; attemptsMade: number }[] = [];
    for (let round = 0; round < 10_000; round++) {
      const jobs = await consumer.pop([queue], { max: 2, leaseMs: 60_000, waitMs: 1000 });
      if (jobs.length === 0) break;
      for (const leased of jobs) {
        await consumer.ack(leased);
        parentAcked.push({ id: leased.id, attemptsMade: leased.attemptsMade });
      }
    }
    const childAcked: { id: string; attemptsMade: number }[] = [];
    for (const child of children) {
      const { acked } = (await child.nextMessage()) as { acked: typeof childAcked };
      childAcked.push(...acked);
      expect(await child.exited).toBe(0);
    }

    const all = [...parentAcked, ...childAcked];
    expect(all).toHaveLength(total);
    expect(new Set(all.map((a) => a.id)).size).toBe(total);
    expect(new Set(all.map((a) => a.id))).toEqual(new Set(pushed.map((p) => p.id)));
    expect(all.every((a) => a.attemptsMade === 1)).toBe(true);
    expect(await consumer.inspector!.queues()).toEqual([]);
  });

  it('a pop waiting in another process returns soon after a push here, well before waitMs', {
    timeout: 60_000,
  }, async () => {
    const file = tempDbFile();
    const url = `sqlite:${file}`;
    const queue = 'cross-process-wake';
    const producer = await backendOn(file);
    const waitMs = 20_000;
    const child = spawnFixture('wait-pop.mjs', [url, queue, String(waitMs)]);
    expect(await child.nextMessage()).toEqual({ waiting: true, early: 0 });
    // Let the child's poll interval grow to its idle ceiling, so this exercises the idle path.
    await sleep(100);
    const [pushed] = await producer.push([job(queue)]);
    const result = (await child.nextMessage()) as { ids: string[]; elapsedMs: number };
    expect(result.ids).toEqual([pushed!.id]);
    expect(result.elapsedMs).toBeLessThan(waitMs);
    expect(await child.exited).toBe(0);
  });
});

describe('several waiting pops on one instance', () => {
  it('each notices a push from another process (no shared "already seen" state)', {
    timeout: 60_000,
  }, async () => {
    const file = tempDbFile();
    const queue = 'concurrent-waits';
    const consumer = await backendOn(file);
    const waitMs = 20_000;
    const started = Date.now();
    const waits = [consumer.pop([queue], { waitMs }), consumer.pop([queue], { waitMs })];
    const producer = spawnFixture('push.mjs', [`sqlite:${file}`, queue, '2']);
    const { ids } = (await producer.nextMessage()) as { ids: string[] };
    const results = await Promise.all(waits);
    expect(results.map((jobs) => jobs.length)).toEqual([1, 1]);
    expect(
      results
        .flat()
        .map((j) => j.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(Date.now() - started).toBeLessThan(waitMs);
    expect(await producer.exited).toBe(0);
  });
});

describe('SqliteBackend class', () => {
  it('can be constructed directly with typed options', async () => {
    const file = tempDbFile();
    const backend = new SqliteBackend(file, { busyTimeoutMs: 1000, synchronous: 'full', pollMaxMs: 5 });
    open.push(backend);
    expect(backend.file).toBe(file);
    expect(() => new SqliteBackend(join(dirname(file), 'other.db'), { pollMaxMs: -1 })).toThrow(ConfigError);
    mkdirSync(join(dirname(file), 'is-a-dir.db'));
    expect(() => new SqliteBackend(join(dirname(file), 'is-a-dir.db'))).toThrow(ConfigError);
  });
});
