import { readFileSync } from 'node:fs';
import {
  type Backend,
  BackendClosedError,
  Client,
  ConfigError,
  InvalidQueueNameError,
  openBackend,
} from '@ilkkun/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../src/classify-error.js';
import {
  createBackend,
  migrateSchema,
  openMysqlBackend,
  parseMysqlUrl,
  resolveOptions,
} from '../src/index.js';
import { adminQuery, delay, fixture, perl, runUrl, scratchDatabase } from './helpers.js';

const opened: Backend[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});
async function open(url: string, options?: Record<string, unknown>): Promise<Backend> {
  const b = await createBackend(url, options);
  opened.push(b);
  return b;
}

describe('mysql URLs and options', () => {
  it('parses host, port, credentials (percent-decoded) and the database', () => {
    expect(parseMysqlUrl('mysql://app:p%40ss%2Fw@db.example.com:3307/jobs?pollMaxMs=50')).toEqual({
      host: 'db.example.com',
      port: 3307,
      user: 'app',
      password: 'p@ss/w',
      database: 'jobs',
      params: { pollMaxMs: '50' },
    });
    expect(parseMysqlUrl('mariadb://127.0.0.1/test')).toMatchObject({ port: 3306, user: undefined });
    expect(parseMysqlUrl('mysql://[::1]:3306/test').host).toBe('::1');
  });

  it.each([
    ['redis://127.0.0.1', /not a mysql URL/],
    ['mysql://127.0.0.1', /exactly one database/],
    ['mysql://127.0.0.1/a/b', /exactly one database/],
    ['mysql://127.0.0.1/test#x', /fragment/],
    ['mysql://127.0.0.1/test?a=1&a=2', /twice/],
  ])('refuses %s with a ConfigError', (url, message) => {
    expect(() => parseMysqlUrl(url)).toThrow(ConfigError);
    expect(() => parseMysqlUrl(url)).toThrow(message);
  });

  it('never shows the password in an error', async () => {
    const err = await createBackend('mysql://root:hunter2@127.0.0.1:3306/test?bogus=1').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).not.toContain('hunter2');
    const denied = await createBackend(
      'mysql://nosuchuser:hunter2@127.0.0.1:3306/test?connectTimeoutMs=2000',
    ).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConfigError);
    expect(String((denied as Error).message)).not.toContain('hunter2');
  });

  it.each([
    [{ bogus: '1' }, /unknown mysql URL parameter "bogus"/],
    [{ connectionLimit: '0' }, /connectionLimit/],
    [{ claim: 'fast' }, /claim/],
    [{ schema: 'drop' }, /schema/],
    [{ flavor: 'sqlite' }, /flavor/],
    [{ storableQueues: 'ok,bad name' }, /storableQueues/],
    [{ ssl: 'maybe' }, /ssl/],
  ])('refuses option %o', (params, message) => {
    expect(() => resolveOptions(params)).toThrow(message);
  });

  it('code options win over the URL', () => {
    expect(resolveOptions({ pollMaxMs: '50' }, { pollMaxMs: 7 }).pollMaxMs).toBe(7);
  });
});

describe('error classification', () => {
  it.each([
    [{ errno: 1213, code: 'ER_LOCK_DEADLOCK' }, 'deadlock'],
    [{ errno: 1205 }, 'lock-timeout'],
    [{ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }, 'connection'],
    [{ code: 'ECONNREFUSED' }, 'connection'],
    [{ errno: 2013 }, 'connection'],
    [{ errno: 1927 }, 'connection'],
    [{ errno: 1062 }, 'duplicate'],
    [{ errno: 1045 }, 'config'],
    [{ errno: 1146 }, 'config'],
    [new Error('boom'), 'other'],
  ])('%o is %s', (err, kind) => {
    expect(classifyError(err)).toBe(kind);
  });
});

describe('schema on an existing TheSchwartz database', () => {
  async function perlDatabase(suffix: string) {
    const scratch = await scratchDatabase(suffix);
    // exactly the DDL TheSchwartz ships (with the server's default, case-insensitive collation)
    await adminQuery(readFileSync(fixture('schema-theschwartz-mysql.sql'), 'utf8'), [], scratch.database);
    return scratch;
  }

  it('refuses to alter it on open, says how to migrate, and `migrate` adds the columns without touching rows', async () => {
    const { url, database } = await perlDatabase('perlschema');
    const inserted = await perl(
      'schwartz-insert.pl',
      ['--func', 'Legacy::Worker', '--json', '{"a":1}', '--priority', '3'],
      database,
    );
    const err = await createBackend(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('ilkkun migrate');
    await expect(createBackend(`${url}?schema=verify`)).rejects.toBeInstanceOf(ConfigError);
    const verify = await migrateSchema(url, { verifyOnly: true });
    expect(verify.report.ok).toBe(false);
    expect(verify.applied).toEqual([]);

    const before = await adminQuery<RowDataPacket[]>('SELECT * FROM `job`', [], database);
    const result = await migrateSchema(url);
    expect(result.report.ok).toBe(true);
    // columns and index in separate statements (instant / online), the index never locking the table
    expect(result.applied.filter((sql) => sql.startsWith('ALTER TABLE'))).toHaveLength(3);
    expect(result.applied.at(-1)).toMatch(/ADD INDEX `ilkkun_pop`.*LOCK=NONE$/s);
    expect(result.report.warnings.join()).toMatch(/case/);
    const after = await adminQuery<RowDataPacket[]>(
      'SELECT `jobid`, `funcid`, `arg`, `uniqkey`, `insert_time`, `run_after`, `grabbed_until`, `priority`, `coalesce` FROM `job`',
      [],
      database,
    );
    expect(after).toEqual(before);
    expect((await migrateSchema(url)).applied).toEqual([]);

    const b = await open(url);
    const [job] = await b.pop(['Legacy::Worker'], { max: 1 });
    expect(job).toMatchObject({
      id: String(inserted['jobid']),
      priority: 3,
      payload: '{"a":1}',
      maxAttempts: 3,
    });
    await b.ack(job!);
  });

  it('a case-insensitive funcmap cannot make two queues share one funcid', async () => {
    const { url } = await perlDatabase('casefold');
    await migrateSchema(url);
    const b = await open(url);
    await new Client(b).add('Case.Queue', 1);
    await expect(new Client(b).add('case.queue', 2)).rejects.toBeInstanceOf(InvalidQueueNameError);
  });
});

describe('connections', () => {
  interface IdRow extends RowDataPacket {
    id: number;
  }

  it('a lost connection is retried: killing every connection of the pool loses no push, pop or ack', async () => {
    const { url, database } = await scratchDatabase('killed');
    const b = await open(`${url}?connectionLimit=3`);
    const client = new Client(b);
    await client.add('kill.q', 1);
    const kill = async () => {
      const rows = await adminQuery<IdRow[]>(
        'SELECT `ID` AS id FROM information_schema.PROCESSLIST WHERE `DB` = ? AND `ID` <> CONNECTION_ID()',
        [database],
      );
      for (const { id } of rows) await adminQuery(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
      return rows.length;
    };
    expect(await kill()).toBeGreaterThan(0);
    await client.add('kill.q', 2);
    await kill();
    const jobs = await b.pop(['kill.q'], { max: 5 });
    expect(jobs).toHaveLength(2);
    await kill();
    await Promise.all(jobs.map((j) => b.ack(j)));
    expect(await b.inspector!.counts('kill.q')).toMatchObject({ waiting: 0, active: 0 });
  });

  it('core openBackend loads this package for mysql: and mariadb: URLs', async () => {
    const b = await openBackend(runUrl.replace(/^mysql:/, 'mariadb:'));
    opened.push(b);
    expect(b.name).toBe('mysql');
  });

  it('close() ends a waiting pop with [] and refuses later calls', async () => {
    const b = await createBackend(runUrl);
    const waiting = b.pop(['close.q'], { waitMs: 30_000 });
    await delay(50);
    await b.close();
    expect(await waiting).toEqual([]);
    await expect(b.push([])).rejects.toBeInstanceOf(BackendClosedError);
  });

  it('reports the claim strategy it picked for the server', async () => {
    const b = await openMysqlBackend(runUrl);
    opened.push(b);
    expect(b.claimStrategy).toBe(b.server.skipLocked ? 'skip-locked' : 'optimistic');
  });
});

describe('TheSchwartz records', () => {
  it('keepExitStatusFor writes exitstatus rows Perl can read (0 done, 1 dead)', async () => {
    const { url, database } = await scratchDatabase('exitstatus');
    const b = await open(`${url}?keepExitStatusFor=600`);
    const [ok, bad] = await new Client(b).addMany([
      { queue: 'exit.q', payload: 1 },
      { queue: 'exit.q', payload: 2 },
    ]);
    const jobs = await b.pop(['exit.q'], { max: 2 });
    await b.ack(jobs.find((j) => j.id === ok!.id)!);
    await b.requeue(jobs.find((j) => j.id === bad!.id)!, {
      dead: true,
      error: { message: 'no', attempt: 1, at: new Date() },
    });
    const rows = await adminQuery<RowDataPacket[]>(
      'SELECT `jobid`, `status`, `delete_after` - `completion_time` AS keep FROM `exitstatus` ORDER BY `jobid`',
      [],
      database,
    );
    expect(rows.map((r) => [String(r['jobid']), Number(r['status']), Number(r['keep'])])).toEqual([
      [ok!.id, 0, 600],
      [bad!.id, 1, 600],
    ]);
  });

  it('long error messages are cut to the 255 characters of error.message; the full error stays with the job', async () => {
    const { url, database } = await scratchDatabase('longerror');
    const b = await open(url);
    await new Client(b).add('err.q', 1);
    const [job] = await b.pop(['err.q'], { max: 1 });
    const message = `${'é'.repeat(300)}!`;
    await b.requeue(job!, { error: { message, attempt: 1, at: new Date(), stack: 'x' } });
    const [row] = await adminQuery<RowDataPacket[]>('SELECT `message` FROM `error`', [], database);
    expect(String(row?.['message'])).toBe('é'.repeat(255));
    const [again] = await b.pop(['err.q'], { max: 1 });
    expect(again?.lastError?.message).toBe(message);
  });
});
