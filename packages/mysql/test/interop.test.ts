import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Backend, Client, decodeJob, type JsonValue, LEASE_EXPIRED_MESSAGE } from '@ilkkun/core';
import { createRunner, type Runner } from '@ilkkun/runner';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { adminQuery, delay, perl, scratchDatabase } from './helpers.js';

// Real Perl TheSchwartz 1.12 (Debian libtheschwartz-perl, installed by
// `bash scripts/services/start.sh theschwartz`) on the same database as ilkkun, both ways.
const FUNC = 'Ilkkun::Interop::Echo';

let database: string;
let url: string;
const opened: Backend[] = [];
const runners: Runner[] = [];

async function backend(options: Record<string, unknown> = {}): Promise<Backend> {
  const b = await createBackend(url, options);
  opened.push(b);
  return b;
}

beforeAll(async () => {
  ({ url, database } = await scratchDatabase('interop'));
  // ilkkun creates the schema (TheSchwartz tables + its columns); Perl uses it as is
  await (await backend()).close();
  opened.length = 0;
  const { stdout } = await promisify(execFile)('perl', [
    '-MTheSchwartz',
    '-e',
    'print $TheSchwartz::VERSION',
  ]);
  expect(Number(stdout)).toBeGreaterThanOrEqual(1.07);
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop({ graceMs: 0 })));
  for (const b of opened.splice(0)) await b.close();
  await adminQuery(
    'DELETE FROM `job`; DELETE FROM `error`; DELETE FROM `ilkkun_dead`; DELETE FROM `exitstatus`',
    [],
    database,
  );
});

/** Run a Perl snippet against the interop database (same connection settings as the helper scripts). */
async function perlEval(script: string, args: string[]): Promise<unknown> {
  const u = new URL(url);
  const { stdout } = await promisify(execFile)('perl', ['-e', script, ...args], {
    timeout: 30_000,
    env: {
      ...process.env,
      SCHWARTZ_DSN: `dbi:mysql:database=${database};host=${u.hostname};port=${u.port || 3306}`,
      SCHWARTZ_USER: decodeURIComponent(u.username),
      SCHWARTZ_PASS: decodeURIComponent(u.password),
    },
  });
  return JSON.parse(stdout) as unknown;
}

const insert = (args: string[]) => perl('schwartz-insert.pl', ['--func', FUNC, ...args], database);
const workOne = (args: string[] = []) => perl('schwartz-work-one.pl', ['--func', FUNC, ...args], database);
const jobRows = (jobid: unknown) =>
  adminQuery<Array<{ n: number } & import('mysql2/promise').RowDataPacket>>(
    'SELECT COUNT(*) AS n FROM `job` WHERE `jobid` = ?',
    [jobid],
    database,
  ).then((rows) => Number(rows[0]?.n));

describe('Perl client → ilkkun worker', () => {
  it('a job inserted by Perl TheSchwartz is completed by the ilkkun runner (Storable arg read as JSON)', async () => {
    const inserted = await insert([
      '--json',
      '{"n":1,"s":"héllo ☺","a":[1,null],"h":{"k":"v"}}',
      '--priority',
      '5',
    ]);
    expect(inserted['inserted']).toBe(1);
    const b = await backend();
    const seen: Array<{ id: string; payload: JsonValue; priority: number; attempts: number }> = [];
    const runner = createRunner({
      backend: b,
      handlers: {
        [FUNC]: async (job) => {
          seen.push({ id: job.id, payload: job.payload, priority: job.priority, attempts: job.attemptsMade });
        },
      },
      global: { waitMs: 200 },
    });
    runners.push(runner);
    const completed: string[] = [];
    runner.on('job:complete', ({ job }) => completed.push(job.id));
    await runner.start();
    for (let i = 0; i < 300 && completed.length === 0; i++) await delay(20);
    expect(seen).toEqual([
      {
        id: String(inserted['jobid']),
        payload: { n: 1, s: 'héllo ☺', a: [1, null], h: { k: 'v' } },
        priority: 5,
        attempts: 1,
      },
    ]);
    expect(await jobRows(inserted['jobid'])).toBe(0);
  });

  it('reads plain-string args as strings, JSON text as JSON, and JSON::PP booleans as booleans', async () => {
    const raw = await insert(['--raw', 'plain text']);
    const json = await insert(['--raw', '{"x":[1,2]}']);
    const bool = await perl('schwartz-insert-object.pl', ['--func', FUNC, '--kind', 'boolean'], database);
    const b = await backend();
    const jobs = await b.pop([FUNC], { max: 10, leaseMs: 30_000 });
    const byId = new Map(jobs.map((j) => [j.id, decodeJob(j).payload]));
    expect(byId.get(String(raw['jobid']))).toBe('plain text');
    expect(byId.get(String(json['jobid']))).toEqual({ x: [1, 2] });
    expect(byId.get(String(bool['jobid']))).toEqual({ yes: true, no: false, n: 3 });
    await b.ackMany(jobs);
  });

  it('a Perl object in arg cannot be read: the job goes to dead with a clear reason, never to a handler', async () => {
    const obj = await perl('schwartz-insert-object.pl', ['--func', FUNC, '--kind', 'object'], database);
    const b = await backend();
    expect(await b.pop([FUNC], { max: 5 })).toEqual([]);
    const [dead] = await b.inspector!.list(FUNC, 'dead');
    expect(dead?.id).toBe(String(obj['jobid']));
    expect(dead?.lastError?.name).toBe('SerializationError');
    expect(dead?.lastError?.message).toContain('object of class Foo::Bar');
    // the reason is in TheSchwartz's error table too, where Perl's failure_log looks
    const rows = await adminQuery<Array<{ message: string } & import('mysql2/promise').RowDataPacket>>(
      'SELECT `message` FROM `error` WHERE `jobid` = ?',
      [obj['jobid']],
      database,
    );
    expect(rows.map((r) => r.message).join()).toContain('Foo::Bar');
  });

  it('honours Perl priorities (higher first, NULL last) without TheSchwartz’s shuffle', async () => {
    const ids: string[] = [];
    for (const p of [[], ['--priority', '1'], ['--priority', '5'], ['--priority', '5']]) {
      ids.push(String((await insert(['--raw', 'x', ...p]))['jobid']));
    }
    const b = await backend();
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [job] = await b.pop([FUNC], { max: 1 });
      order.push(job!.id);
      await b.ack(job!);
    }
    expect(order).toEqual([ids[2], ids[3], ids[1], ids[0]]);
  });

  it('counts Perl failures as attempts and keeps counting them the same way', async () => {
    const b = await backend();
    const { id } = await new Client(b).add(FUNC, { n: 1 }, { attempts: 5 });
    const failed = await workOne(['--action', 'fail', '--max-retries', '5']);
    expect(failed).toMatchObject({ worked: 1, failures_after: 1, still_queued: 1 });
    const [job] = await b.pop([FUNC], { max: 1 });
    expect(job?.id).toBe(id);
    expect(job?.attemptsMade).toBe(2);
    expect(job?.lastError?.message).toBe('interop test failure');
    await b.requeue(job!, { error: { message: 'ts failure', attempt: 2, at: new Date() } });
    const again = await workOne(['--action', 'complete']);
    expect(again).toMatchObject({ worked: 1, failures_before: 2, still_queued: 0 });
  });

  it('a Perl worker cannot take a job while its ilkkun lease runs, and after it lapsed the ilkkun ack is refused', async () => {
    const b = await backend();
    await new Client(b).add(FUNC, 'x');
    // long enough that a slow Perl start-up on a loaded machine still finds it leased
    const [job] = await b.pop([FUNC], { max: 1, leaseMs: 4000 });
    expect(await workOne()).toEqual({ worked: 0 });
    // grabbed_until is the lease end rounded up to the second: wait until Perl may grab
    await delay(5100);
    expect(await workOne()).toMatchObject({ worked: 1, still_queued: 0 });
    await expect(b.ack(job!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('unique keys: Perl and ilkkun share TheSchwartz’s UNIQUE (funcid, uniqkey)', async () => {
    const first = await insert(['--raw', 'a', '--uniqkey', 'k1']);
    expect(await insert(['--raw', 'b', '--uniqkey', 'k1'])).toEqual({ inserted: 0 });
    const b = await backend();
    const dup = await new Client(b).add(FUNC, 'c', { uniqueKey: 'k1' });
    expect(dup).toMatchObject({ id: String(first['jobid']), duplicate: true });
  });
});

describe('ilkkun client → Perl worker', () => {
  it('a job added by the ilkkun client is worked by a Perl TheSchwartz worker (arg is the JSON text)', async () => {
    const b = await backend();
    const { id } = await new Client(b).add(FUNC, { n: 2, s: 'é' });
    const out = await workOne();
    expect(out).toMatchObject({
      worked: 1,
      jobid: Number(id),
      arg_kind: 'raw',
      arg: '{"n":2,"s":"é"}',
      still_queued: 0,
    });
    expect(await b.inspector!.counts(FUNC)).toMatchObject({ waiting: 0, active: 0, dead: 0 });
  });

  it('storableQueues: the Perl worker gets a hash reference, and ilkkun reads the same image back', async () => {
    const b = await backend({ storableQueues: [FUNC] });
    const payload = {
      n: 2,
      big: 4_000_000_000,
      f: 1.5,
      s: 'é ☺',
      list: [1, 'x', null],
      flag: true,
      nested: { k: [] },
    };
    const { id } = await new Client(b).add(FUNC, payload);
    const [peek] = await b.inspector!.list(FUNC, 'waiting');
    // what survives the trip through Storable (numbers beyond int32 and floats are strings in nfreeze)
    expect(JSON.parse(peek!.payload)).toEqual({ ...payload, big: '4000000000', f: '1.5', flag: '1' });
    const out = await workOne();
    expect(out).toMatchObject({ worked: 1, jobid: Number(id), arg_kind: 'storable:HASH', still_queued: 0 });
    expect(out['arg']).toEqual({ ...payload, big: '4000000000', f: '1.5', flag: '1' });
  });

  it('Perl workers with prioritize take ilkkun priorities in order (default last)', async () => {
    const b = await backend();
    const c = new Client(b);
    const low = await c.add(FUNC, 'default');
    const high = await c.add(FUNC, 'nine', { priority: 9 });
    const mid = await c.add(FUNC, 'five', { priority: 5 });
    const order: number[] = [];
    for (let i = 0; i < 3; i++) {
      order.push(Number((await workOne(['--prioritize', '--batch-size', '1']))['jobid']));
    }
    expect(order).toEqual([high.id, mid.id, low.id].map(Number));
  });

  it('a Perl decline with a time pushes the job back; ilkkun does not take it early and counts no attempt', async () => {
    const b = await backend();
    const { id } = await new Client(b).add(FUNC, 'later');
    expect(await workOne(['--action', 'decline', '--decline-for', '30'])).toMatchObject({
      worked: 1,
      still_queued: 1,
    });
    expect(await b.pop([FUNC], { max: 1 })).toEqual([]);
    const [job] = await b.inspector!.list(FUNC, 'delayed');
    expect(job).toMatchObject({ id, attemptsMade: 0 });
    expect(job!.runAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
  });

  it('exit statuses ilkkun keeps (keepExitStatusFor) are what Perl’s $handle->exit_status reads', async () => {
    const b = await backend({ keepExitStatusFor: 600 });
    const [ok, bad] = await new Client(b).addMany([
      { queue: FUNC, payload: 1 },
      { queue: FUNC, payload: 2 },
    ]);
    const jobs = await b.pop([FUNC], { max: 2 });
    await b.ack(jobs.find((j) => j.id === ok!.id)!);
    await b.requeue(jobs.find((j) => j.id === bad!.id)!, {
      dead: true,
      error: { message: 'gave up', attempt: 1, at: new Date() },
    });
    const script = `
      use strict; use warnings; use TheSchwartz; use Digest::MD5 qw(md5_hex); use JSON::PP;
      my $db = { dsn => $ENV{SCHWARTZ_DSN}, user => $ENV{SCHWARTZ_USER}, pass => $ENV{SCHWARTZ_PASS} };
      my $c = TheSchwartz->new(databases => [$db]);
      my $key = md5_hex(join '|', $db->{dsn}, $db->{user});
      my %out = map { my $h = $c->handle_from_string("$key-$_");
        ($_ => { status => $h->exit_status, pending => $h->is_pending ? 1 : 0, failures => 0 + $h->failures }) } @ARGV;
      my $json = JSON::PP->new->canonical;
      print $json->encode(\\%out);`;
    const out = await perlEval(script, [ok!.id, bad!.id]);
    expect(out).toEqual({
      [ok!.id]: { status: 0, pending: 0, failures: 0 },
      [bad!.id]: { status: 1, pending: 0, failures: 1 },
    });
  });

  it('a delayed ilkkun job is not grabbed by Perl before its time', async () => {
    const b = await backend();
    await new Client(b).add(FUNC, 'later', { delay: 60_000 });
    expect(await workOne()).toEqual({ worked: 0 });
  });

  it('two ilkkun workers and one Perl worker race on one queue: every job is worked exactly once', async () => {
    const b1 = await backend();
    const b2 = await backend();
    const total = 150;
    const ids = (
      await new Client(b1).addMany(Array.from({ length: total }, (_, i) => ({ queue: FUNC, payload: i })))
    ).map((r) => r.id);
    const seen: string[] = [];
    const drain = async (b: Backend) => {
      for (let idle = 0; idle < 3; ) {
        const jobs = await b.pop([FUNC], { max: 3, leaseMs: 60_000, waitMs: 200 });
        if (jobs.length === 0) {
          idle++;
          continue;
        }
        idle = 0;
        for (const j of jobs) seen.push(j.id);
        const lost = await b.ackMany(jobs);
        expect(lost.every((l) => l === null)).toBe(true);
      }
    };
    const [perlOut] = await Promise.all([
      perl('schwartz-drain.pl', ['--func', FUNC, '--max-seconds', '40'], database),
      drain(b1),
      drain(b2),
    ]);
    const perlIds = (perlOut['jobids'] as number[]).map(String);
    const all = [...seen, ...perlIds];
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    expect([...all].sort()).toEqual([...ids].sort());
  });

  it('an ilkkun lease that a crashed worker left is counted as an attempt; Perl sees it as a failure', async () => {
    const b = await backend();
    const { id } = await new Client(b).add(FUNC, 'crashy', { attempts: 3 });
    await b.pop([FUNC], { max: 1, leaseMs: 300 });
    await delay(400);
    const [again] = await b.pop([FUNC], { max: 1, leaseMs: 300 });
    expect(again?.id).toBe(id);
    expect(again?.attemptsMade).toBe(2);
    expect(again?.lastError?.message).toBe(LEASE_EXPIRED_MESSAGE);
    await b.requeue(again!, { release: true });
    expect(await workOne()).toMatchObject({ worked: 1, failures_before: 1 });
  });
});
