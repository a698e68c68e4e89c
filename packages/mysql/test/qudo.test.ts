import { readFileSync } from 'node:fs';
import { type Backend, ConfigError, decodeJob } from '@ilkkun/core';
import { createRunner, type Runner } from '@ilkkun/runner';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, migrateSchema, QUDO, resolveOptions } from '../src/index.js';
import { READY, sqlKit } from '../src/sql.js';
import { adminQuery, delay, fixture, scratchDatabase } from './helpers.js';

// The Qudo flavour (`?flavor=qudo`) against Qudo's schema. Qudo itself is not installable here, so
// "Qudo's way" is its DDL (test/fixtures/schema-qudo-mysql.sql) and plain SQL following what its
// Perl driver writes: func find-or-create, INSERT INTO job (func_id, arg, uniqkey, run_after,
// priority, enqueue_time, grabbed_until, retry_cnt).
const FUNC = 'MyApp::Worker::Notify';

const opened: Backend[] = [];
const runners: Runner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop({ graceMs: 0 })));
  for (const b of opened.splice(0)) await b.close();
});

async function open(url: string, options: Record<string, unknown> = {}): Promise<Backend> {
  const b = await createBackend(url, options);
  opened.push(b);
  return b;
}

type Rows = RowDataPacket[];

/** A database as a Qudo deployment has it: Qudo's own DDL, server defaults. */
async function qudoDatabase(suffix: string) {
  const scratch = await scratchDatabase(suffix);
  await adminQuery(readFileSync(fixture('schema-qudo-mysql.sql'), 'utf8'), [], scratch.database);
  return { ...scratch, url: `${scratch.url}?flavor=qudo` };
}

/** Enqueue as Qudo's Perl driver does (Qudo::Hook::Serialize::JSON arg), by plain SQL. */
async function qudoEnqueue(
  database: string,
  arg: string,
  options: { priority?: number; uniqkey?: string; retryCnt?: number; runAfter?: number } = {},
): Promise<string> {
  await adminQuery('INSERT IGNORE INTO `func` (`name`) VALUES (?)', [FUNC], database);
  const [func] = await adminQuery<Rows>('SELECT `id` FROM `func` WHERE `name` = ?', [FUNC], database);
  await adminQuery(
    `INSERT INTO job (func_id, arg, uniqkey, run_after, priority, enqueue_time, grabbed_until, retry_cnt)
     VALUES (?, ?, ?, ?, ?, UNIX_TIMESTAMP(), 0, ?)`,
    [
      func!['id'],
      arg,
      options.uniqkey ?? null,
      options.runAfter ?? 0,
      options.priority ?? 0,
      options.retryCnt ?? 0,
    ],
    database,
  );
  const [row] = await adminQuery<Rows>('SELECT MAX(`id`) AS id FROM `job`', [], database);
  return String(row!['id']);
}

const columnsOf = async (database: string, table: string) =>
  (
    await adminQuery<Rows>(
      `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [database, table],
    )
  ).map((r) => String(r['c']));

describe('flavor option', () => {
  it('accepts qudo and theschwartz, refuses anything else', () => {
    expect(resolveOptions({ flavor: 'qudo' }).flavor).toBe('qudo');
    expect(resolveOptions({ flavor: 'TheSchwartz' }).flavor).toBe('theschwartz');
    expect(resolveOptions({}).flavor).toBe('theschwartz');
    expect(() => resolveOptions({ flavor: 'resque' })).toThrow(ConfigError);
  });
});

describe('Qudo schema', () => {
  it('migrate creates Qudo’s tables with Qudo’s columns (and no TheSchwartz table)', async () => {
    const { url, database } = await scratchDatabase('qudo_mig');
    const verify = await migrateSchema(`${url}?flavor=qudo`, { verifyOnly: true });
    expect(verify.report.ok).toBe(false);
    expect(verify.applied).toEqual([]);
    const result = await migrateSchema(`${url}?flavor=qudo`);
    expect(result.report).toMatchObject({ ok: true, problems: [], warnings: [] });
    expect(await columnsOf(database, 'func')).toEqual(['id', 'name']);
    expect((await columnsOf(database, 'job')).slice(0, QUDO.jobColumns.length)).toEqual([
      'id',
      'func_id',
      'arg',
      'uniqkey',
      'enqueue_time',
      'grabbed_until',
      'run_after',
      'retry_cnt',
      'priority',
    ]);
    expect(await columnsOf(database, 'exception_log')).toEqual([
      'id',
      'func_id',
      'exception_time',
      'message',
      'uniqkey',
      'arg',
      'retried',
    ]);
    expect(await columnsOf(database, 'job_status')).toEqual([
      'id',
      'func_id',
      'arg',
      'uniqkey',
      'status',
      'job_start_time',
      'job_end_time',
    ]);
    for (const table of ['funcmap', 'error', 'exitstatus', 'note']) {
      expect(await columnsOf(database, table)).toEqual([]);
    }
    expect((await migrateSchema(`${url}?flavor=qudo`, { verifyOnly: true })).report.ok).toBe(true);
    expect((await migrateSchema(`${url}?flavor=qudo`)).applied).toEqual([]);
    // the same database is not a TheSchwartz one
    expect((await migrateSchema(url, { verifyOnly: true })).report.ok).toBe(false);
  });

  it('on a database made with Qudo’s own DDL: refuses to alter it on open, migrate adds ilkkun’s columns without touching rows, then verify passes', async () => {
    const { url, database } = await qudoDatabase('qudo_ddl');
    await qudoEnqueue(database, '{"user":1}', { priority: 3, uniqkey: 'k1' });
    const err = await createBackend(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/Qudo tables .*ilkkun migrate/);
    const before = await adminQuery<Rows>('SELECT * FROM `job`', [], database);
    const verify = await migrateSchema(url, { verifyOnly: true });
    expect(verify.report.ok).toBe(false);
    expect(verify.report.problems.join()).toMatch(/ilkkun_pop/);

    const result = await migrateSchema(url);
    expect(result.report.ok).toBe(true);
    expect(result.applied.filter((sql) => sql.startsWith('ALTER TABLE'))).toHaveLength(3);
    expect(result.applied.at(-1)).toMatch(/ADD INDEX `ilkkun_pop` \(`func_id`, .*`id`\), LOCK=NONE$/s);
    const after = await adminQuery<Rows>(
      'SELECT `id`, `func_id`, `arg`, `uniqkey`, `enqueue_time`, `grabbed_until`, `run_after`, `retry_cnt`, `priority` FROM `job`',
      [],
      database,
    );
    expect(after).toEqual(before);
    const verified = await migrateSchema(url, { verifyOnly: true });
    expect(verified.report.ok).toBe(true);
    expect(verified.report.problems).toEqual([]);
    expect((await migrateSchema(url)).applied).toEqual([]);
  });
});

describe('Qudo jobs and ilkkun', () => {
  it('a job inserted the way Qudo inserts it is worked by the ilkkun runner, in Qudo’s priority order', async () => {
    const { url, database } = await qudoDatabase('qudo_work');
    await migrateSchema(url);
    const low = await qudoEnqueue(database, '{"user":1}', { priority: 1 });
    const high = await qudoEnqueue(database, '{"user":2,"s":"héllo"}', { priority: 9, uniqkey: 'u-2' });
    const b = await open(url);
    const seen: Array<{ id: string; payload: unknown; priority: number; attempts: number }> = [];
    const runner = createRunner({
      backend: b,
      handlers: {
        [FUNC]: async (job) => {
          seen.push({ id: job.id, payload: job.payload, priority: job.priority, attempts: job.attemptsMade });
        },
      },
      global: { waitMs: 200, concurrency: 1 },
    });
    runners.push(runner);
    const completed: string[] = [];
    runner.on('job:complete', ({ job }) => completed.push(job.id));
    await runner.start();
    for (let i = 0; i < 300 && completed.length < 2; i++) await delay(20);
    expect(seen).toEqual([
      { id: high, payload: { user: 2, s: 'héllo' }, priority: 9, attempts: 1 },
      { id: low, payload: { user: 1 }, priority: 1, attempts: 1 },
    ]);
    expect(await adminQuery<Rows>('SELECT * FROM `job`', [], database)).toEqual([]);
  });

  it('attempts: attemptsMade = retry_cnt (+1 while leased); a failure bumps retry_cnt and logs to exception_log', async () => {
    const { url, database } = await qudoDatabase('qudo_att');
    await migrateSchema(url);
    // a job Qudo already retried twice (retry_cnt 2)
    const id = await qudoEnqueue(database, '{"n":1}', { retryCnt: 2, uniqkey: 'again' });
    const b = await open(url, { defaultMaxAttempts: 5 });
    const [job] = await b.pop([FUNC], { max: 1, leaseMs: 30_000 });
    expect(job).toMatchObject({ id, attemptsMade: 3, maxAttempts: 5 });
    await b.requeue(job!, {
      error: { message: 'boom', name: 'Error', attempt: 3, at: new Date() },
    });
    const [row] = await adminQuery<Rows>('SELECT `retry_cnt` FROM `job` WHERE `id` = ?', [id], database);
    expect(Number(row!['retry_cnt'])).toBe(3);
    const log = await adminQuery<Rows>(
      'SELECT `func_id`, `message`, `uniqkey`, `arg`, `retried` FROM `exception_log`',
      [],
      database,
    );
    expect(log).toHaveLength(1);
    expect(String(log[0]!['message'])).toBe('boom');
    expect(log[0]!['uniqkey']).toBe('again');
    expect(String(log[0]!['arg'])).toBe('{"n":1}');
    expect(Number(log[0]!['retried'])).toBe(0);
    const live = await b.inspector!.getJob(FUNC, id);
    expect(live).toMatchObject({ state: 'waiting', attemptsMade: 3, lastError: { message: 'boom' } });

    const [again] = await b.pop([FUNC], { max: 1, leaseMs: 30_000 });
    expect(again?.attemptsMade).toBe(4);
    await b.requeue(again!, { dead: true, error: { message: 'fatal', attempt: 4, at: new Date() } });
    const [dead] = await b.inspector!.list(FUNC, 'dead');
    expect(dead).toMatchObject({ id, attemptsMade: 4, lastError: { message: 'fatal' } });
    expect(await adminQuery<Rows>('SELECT * FROM `job`', [], database)).toEqual([]);

    // retryDead gives the job its full budget again: retry_cnt back at 0, same id
    expect(await b.inspector!.retryDead(FUNC)).toBe(1);
    const [back] = await adminQuery<Rows>('SELECT `id`, `retry_cnt`, `uniqkey` FROM `job`', [], database);
    expect(back).toMatchObject({ id, retry_cnt: 0, uniqkey: 'again' });
    const [fresh] = await b.pop([FUNC], { max: 1 });
    expect(fresh?.attemptsMade).toBe(1);
    expect(decodeJob(fresh!).payload).toEqual({ n: 1 });
    await b.ack(fresh!);
  });

  it('ilkkun jobs are written as Qudo rows: JSON arg, clamped unsigned priority, retry_cnt 0; job_status records completion with keepExitStatusFor', async () => {
    const { url, database } = await scratchDatabase('qudo_push');
    const b = await open(`${url}?flavor=qudo&keepExitStatusFor=60`);
    await b.push([
      {
        queue: FUNC,
        payload: JSON.stringify({ a: 1 }),
        priority: -5,
        runAt: new Date(),
        maxAttempts: 2,
        uniqueKey: 'x',
      },
      { queue: FUNC, payload: JSON.stringify({ a: 2 }), priority: 7, runAt: new Date(), maxAttempts: 2 },
    ]);
    const rows = await adminQuery<Rows>(
      'SELECT f.`name`, j.`arg`, j.`uniqkey`, j.`priority`, j.`retry_cnt`, j.`grabbed_until`, j.`enqueue_time` IS NOT NULL AS has_time FROM `job` j JOIN `func` f ON f.`id` = j.`func_id` ORDER BY j.`id`',
      [],
      database,
    );
    expect(rows.map((r) => ({ ...r, arg: String(r['arg']) }))).toEqual([
      { name: FUNC, arg: '{"a":1}', uniqkey: 'x', priority: 0, retry_cnt: 0, grabbed_until: 0, has_time: 1 },
      { name: FUNC, arg: '{"a":2}', uniqkey: null, priority: 7, retry_cnt: 0, grabbed_until: 0, has_time: 1 },
    ]);
    const jobs = await b.pop([FUNC], { max: 2 });
    expect(jobs.map((j) => j.priority)).toEqual([7, -5]);
    await b.ackMany!(jobs);
    const status = await adminQuery<Rows>(
      'SELECT `status`, `arg`, `uniqkey` FROM `job_status` ORDER BY `id`',
      [],
      database,
    );
    expect(status.map((r) => [r['status'], String(r['arg']), r['uniqkey']]).sort()).toEqual([
      ['completed', '{"a":1}', 'x'],
      ['completed', '{"a":2}', null],
    ]);
  });

  it('the claim reads Qudo’s job table through the pop index in its order (no filesort)', async () => {
    const { url, database } = await qudoDatabase('qudo_plan');
    await migrateSchema(url);
    for (let i = 0; i < 50; i++) await qudoEnqueue(database, `{"i":${i}}`, { priority: i % 5 });
    const kit = sqlKit(QUDO);
    const [plan] = await adminQuery<Rows>(
      `EXPLAIN SELECT ${kit.jobColumns} FROM \`job\` FORCE INDEX (\`ilkkun_pop\`)
       WHERE ${kit.func} = ? AND ${READY} ORDER BY ${kit.popOrder} LIMIT 10`,
      [1],
      database,
    );
    expect(plan).toMatchObject({ key: 'ilkkun_pop', type: 'ref' });
    expect(String(plan!['Extra'] ?? '')).not.toMatch(/filesort/i);
  });
});
