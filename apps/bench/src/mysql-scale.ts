/**
 * MySQL/MariaDB backend at scale: pop latency with 10k, 100k and 1M waiting jobs, and processing
 * throughput at the largest size. Standalone (not part of the bench harness in main.ts): it
 * creates its own database `ilkkun_bench_<random>` on the server the URL names, fills it in big
 * batches, measures, and drops that database at the end (also on Ctrl-C or failure).
 *
 *   pnpm --filter @ilkkun/mysql build && pnpm --filter @ilkkun/bench build
 *   node apps/bench/dist/mysql-scale.js [--url mysql://root@127.0.0.1:3306/test] [--sizes 10000,100000,1000000]
 *        [--samples 300] [--consumers 16] [--seconds 10] [--pickup-rate 20] [--json]
 *
 * `@ilkkun/mysql` and `mysql2` are loaded from packages/mysql at run time, so the bench app needs
 * no dependency on them. Bounded: at most 2,000,000 jobs and 60 s of throughput.
 * Pickup latency: a consumer in a second OS process (so no in-process wake-up helps) waits on an
 * empty queue while this process adds `--pickup-rate` jobs per second for 10 s; pickup = the
 * moment the consumer's pop returns − the moment the job was added (same host, same clock).
 * Rivals, side by side in the same run on the same server, each in a fresh database of its own
 * (`--no-rivals` skips them): the ilkkun runner
 * (16 slots, no-op handler) vs Perl TheSchwartz 1.12 `work_once` in one process on the same tables
 * (needs `bash scripts/services/start.sh theschwartz`) vs a raw mysql2 loop claiming one job per
 * transaction with `ORDER BY prio, id … FOR UPDATE SKIP LOCKED` + DELETE on 16 connections.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Backend, NewJob } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';

interface MysqlModule {
  createBackend(url: string, options?: Record<string, unknown>): Promise<Backend>;
}

interface AdminConnection {
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
  end(): Promise<void>;
}

interface Mysql2Module {
  createConnection(options: Record<string, unknown>): Promise<AdminConnection>;
}

interface Options {
  rivals: boolean;
  pickupRate: number;
  url: string;
  sizes: number[];
  samples: number;
  consumers: number;
  seconds: number;
  json: boolean;
}

interface LevelResult {
  waiting: number;
  fillSeconds: number;
  pop1: Percentiles;
  pop10: Percentiles;
}

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const QUEUE = 'bench.scale';
const MAX_JOBS = 2_000_000;

function parseArgs(argv: readonly string[]): Options {
  const out: Options = {
    url: process.env['ILKKUN_MYSQL_URL'] || 'mysql://root@127.0.0.1:3306/test',
    sizes: [10_000, 100_000, 1_000_000],
    samples: 300,
    consumers: 16,
    seconds: 10,
    json: false,
    pickupRate: 20,
    rivals: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const int = (min: number, max: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`${arg} must be an integer ${min}..${max}`);
      return n;
    };
    if (arg === '--url') out.url = value();
    else if (arg === '--sizes') {
      out.sizes = value()
        .split(',')
        .map((s) => Number(s));
      if (!out.sizes.every((n) => Number.isInteger(n) && n > 0 && n <= MAX_JOBS)) {
        throw new Error(`--sizes must be integers 1..${MAX_JOBS}`);
      }
      out.sizes.sort((a, b) => a - b);
    } else if (arg === '--samples') out.samples = int(10, 10_000);
    else if (arg === '--consumers') out.consumers = int(1, 64);
    else if (arg === '--seconds') out.seconds = int(1, 60);
    else if (arg === '--pickup-rate') out.pickupRate = int(1, 200);
    else if (arg === '--json') out.json = true;
    else if (arg === '--no-rivals') out.rivals = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return out;
}

async function loadModules(): Promise<{ ilkkun: MysqlModule; mysql2: Mysql2Module }> {
  const pkgDir = fileURLToPath(new URL('../../../packages/mysql/', import.meta.url));
  const require = createRequire(join(pkgDir, 'package.json'));
  const ilkkun = (await import(pathToFileURL(join(pkgDir, 'dist/index.js')).href)) as MysqlModule;
  const mysql2 = (await import(pathToFileURL(require.resolve('mysql2/promise')).href)) as Mysql2Module;
  return { ilkkun, mysql2 };
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** Fill the queue up to `target` waiting jobs in 5 000-job pushes (multi-row INSERTs inside). */
async function fill(backend: Backend, from: number, target: number): Promise<void> {
  const payload = JSON.stringify({
    user: 12345,
    action: 'resize',
    path: '/images/2026/11/23/photo.jpg',
    n: 0,
  });
  const runAt = new Date();
  for (let n = from; n < target; ) {
    const count = Math.min(5000, target - n);
    const jobs: NewJob[] = Array.from({ length: count }, (_, i) => ({
      queue: QUEUE,
      payload,
      // ten priority levels, so the claim's ORDER BY has real work to do
      priority: (n + i) % 10,
      runAt,
      maxAttempts: 3,
    }));
    await backend.push(jobs);
    n += count;
  }
}

/** `samples` pops of `max` jobs (each acked outside the timing), as one worker would. */
async function measurePops(backend: Backend, samples: number, max: number): Promise<Percentiles> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    const jobs = await backend.pop([QUEUE], { max, leaseMs: 60_000 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (jobs.length === 0) throw new Error('queue ran dry during the measurement');
    await backend.ackMany!(jobs);
  }
  return percentiles(times);
}

/** `consumers` loops popping 10 and acking each (one process, as one worker pool), for `seconds`. */
async function measureThroughput(
  ilkkun: MysqlModule,
  url: string,
  consumers: number,
  seconds: number,
): Promise<{ jobsPerSecond: number; done: number }> {
  const backend = await ilkkun.createBackend(url, { connectionLimit: consumers + 2 });
  let done = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: consumers }, async () => {
        while (Date.now() < deadline) {
          const jobs = await backend.pop([QUEUE], { max: 10, leaseMs: 60_000 });
          if (jobs.length === 0) return;
          await Promise.all(jobs.map((j) => backend.ack(j)));
          done += jobs.length;
        }
      }),
    );
  } finally {
    await backend.close();
  }
  return { jobsPerSecond: Math.round(done / ((Date.now() - started) / 1000)), done };
}

interface Rival {
  system: string;
  jobsPerSecond: number;
  jobs: number;
  note: string;
}

const RIVAL_SECONDS = 8;
const rate = (jobs: number, ms: number) => Math.round(jobs / (ms / 1000));

/** The ilkkun runner (inline, `concurrency` slots, no-op handler) on a pre-filled queue. */
async function rivalIlkkunRunner(ilkkun: MysqlModule, url: string, concurrency: number): Promise<Rival> {
  const queue = 'bench.runner';
  const backend = await ilkkun.createBackend(url, { connectionLimit: concurrency + 2 });
  try {
    await fillQueue(backend, queue, 40_000);
    let done = 0;
    const runner = createRunner({
      backend,
      handlers: { [queue]: async () => undefined },
      global: { concurrency, waitMs: 500 },
    });
    runner.on('job:complete', () => {
      done++;
    });
    const started = Date.now();
    await runner.start();
    await new Promise((r) => setTimeout(r, RIVAL_SECONDS * 1000));
    await runner.stop({ graceMs: 5000 });
    return {
      system: `ilkkun runner (${concurrency} slots, 1 process)`,
      jobsPerSecond: rate(done, Date.now() - started),
      jobs: done,
      note: 'pop(max = free slots) per transaction, acks group-committed',
    };
  } finally {
    await backend.close();
  }
}

/** Perl TheSchwartz 1.12, one process, `work_once` until the time is up, on the same tables. */
async function rivalTheSchwartz(ilkkun: MysqlModule, url: string, database: string): Promise<Rival> {
  const func = 'Bench::Noop';
  const backend = await ilkkun.createBackend(url);
  try {
    await fillQueue(backend, func, 5000);
  } finally {
    await backend.close();
  }
  const u = new URL(url);
  const script = `
    use strict; use warnings; use TheSchwartz; use TheSchwartz::Worker; use Time::HiRes qw(time);
    @Bench::Noop::ISA = ('TheSchwartz::Worker');
    my $done = 0;
    sub Bench::Noop::work { my ($class, $job) = @_; $job->completed; $done++ }
    my $c = TheSchwartz->new(databases => [{ dsn => $ENV{DSN}, user => $ENV{DBUSER}, pass => $ENV{DBPASS} }]);
    $c->can_do('Bench::Noop');
    my $t0 = time; my $end = $t0 + ${RIVAL_SECONDS};
    while (time < $end) { $c->work_once or last }
    printf "%d %.3f\n", $done, time - $t0;`;
  const { stdout } = await promisify(execFile)('perl', ['-e', script], {
    timeout: (RIVAL_SECONDS + 30) * 1000,
    env: {
      ...process.env,
      DSN: `dbi:mysql:database=${database};host=${u.hostname};port=${u.port || 3306}`,
      DBUSER: decodeURIComponent(u.username),
      DBPASS: decodeURIComponent(u.password),
    },
  });
  const [done, seconds] = stdout.trim().split(' ').map(Number);
  return {
    system: 'Perl TheSchwartz 1.12 (1 process, work_once)',
    jobsPerSecond: Math.round((done ?? 0) / (seconds ?? 1)),
    jobs: done ?? 0,
    note: 'same database and tables, default batch 50 + shuffle',
  };
}

/** Raw mysql2: one job per transaction, the index matching the ORDER BY, `connections` loops. */
async function rivalRawLoop(
  mysql2: Mysql2Module,
  target: Record<string, unknown>,
  connections: number,
): Promise<Rival> {
  const setup = await mysql2.createConnection(target);
  try {
    await setup.query(
      'CREATE TABLE raw_jobs (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, prio INT NOT NULL, payload BLOB, INDEX (prio, id)) ENGINE=InnoDB',
    );
    const payload = Buffer.alloc(100, 120);
    for (let n = 0; n < 40_000; n += 2000) {
      const rows = Array.from({ length: 2000 }, (_, i) => [(n + i) % 10, payload]);
      await setup.query('INSERT INTO raw_jobs (prio, payload) VALUES ?', [rows]);
    }
  } finally {
    await setup.end();
  }
  const conns = await Promise.all(Array.from({ length: connections }, () => mysql2.createConnection(target)));
  let done = 0;
  const started = Date.now();
  const deadline = started + RIVAL_SECONDS * 1000;
  try {
    await Promise.all(
      conns.map(async (c) => {
        await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        while (Date.now() < deadline) {
          await c.beginTransaction();
          const [rows] = (await c.query(
            'SELECT id FROM raw_jobs ORDER BY prio, id LIMIT 1 FOR UPDATE SKIP LOCKED',
          )) as [Array<{ id: number }>, unknown];
          const row = rows[0];
          if (row) await c.query('DELETE FROM raw_jobs WHERE id = ?', [row.id]);
          await c.commit();
          if (!row) return;
          done++;
        }
      }),
    );
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
  return {
    system: `raw mysql2 SKIP LOCKED loop (${connections} connections)`,
    jobsPerSecond: rate(done, Date.now() - started),
    jobs: done,
    note: 'one job per transaction, ORDER BY matches the index',
  };
}

async function fillQueue(backend: Backend, queue: string, count: number): Promise<void> {
  const payload = JSON.stringify({ user: 12345, action: 'resize', path: '/images/2026/11/23/photo.jpg' });
  for (let n = 0; n < count; n += 5000) {
    const runAt = new Date();
    await backend.push(
      Array.from({ length: Math.min(5000, count - n) }, () => ({
        queue,
        payload,
        priority: 0,
        runAt,
        maxAttempts: 3,
      })),
    );
  }
}

const PICKUP_QUEUE = 'bench.pickup';

/** Child role: wait for jobs in a loop, print each one's pickup delay, stop after `seconds` idle-bounded. */
async function pickupConsumer(url: string, seconds: number): Promise<void> {
  const { ilkkun } = await loadModules();
  const backend = await ilkkun.createBackend(url);
  const deadline = Date.now() + seconds * 1000;
  process.stdout.write('ready\n');
  while (Date.now() < deadline) {
    const jobs = await backend.pop([PICKUP_QUEUE], { max: 1, leaseMs: 30_000, waitMs: 1000 });
    const now = Date.now();
    for (const job of jobs) {
      const sentAt = (JSON.parse(job.payload) as { t: number }).t;
      process.stdout.write(`${now - sentAt}\n`);
      await backend.ack(job);
    }
  }
  await backend.close();
}

async function measurePickup(
  ilkkun: MysqlModule,
  url: string,
  rate: number,
): Promise<Percentiles & { jobs: number }> {
  const seconds = 10;
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--pickup-consumer', url, String(seconds + 3)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const latencies: number[] = [];
  let ready!: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') ready();
    else latencies.push(Number(line));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await Promise.race([started, exited]);
  const producer = await ilkkun.createBackend(url);
  try {
    const total = rate * seconds;
    for (let i = 0; i < total; i++) {
      const t = Date.now();
      await producer.push([
        {
          queue: PICKUP_QUEUE,
          payload: JSON.stringify({ t }),
          priority: 0,
          runAt: new Date(t),
          maxAttempts: 1,
        },
      ]);
      // jittered spacing: a steady low rate, not a burst
      await new Promise((r) => setTimeout(r, (1000 / rate) * (0.5 + Math.random())));
    }
  } finally {
    await producer.close();
  }
  await exited;
  return { ...percentiles(latencies), jobs: latencies.length };
}

/** mysql2 connection options for a `mysql://` URL (without its database). */
function connectionOf(url: string): Record<string, unknown> {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username) || undefined,
    password: decodeURIComponent(u.password) || undefined,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--pickup-consumer') {
    await pickupConsumer(argv[1]!, Number(argv[2]));
    return;
  }
  const options = parseArgs(argv);
  const { ilkkun, mysql2 } = await loadModules();
  const database = `ilkkun_bench_${randomBytes(4).toString('hex')}`;
  const conn = await mysql2.createConnection(connectionOf(options.url));
  // Names are ours (hex + fixed suffixes), never user input. Each rival gets a fresh database of
  // its own, so none of them runs against the million rows the scale test leaves behind.
  const created: string[] = [];
  const scratch = async (suffix: string) => {
    const name = `${database}${suffix}`;
    await conn.query(`CREATE DATABASE \`${name}\``);
    created.push(name);
    const u = new URL(options.url);
    u.pathname = `/${name}`;
    return { name, url: u.toString() };
  };
  await scratch('');
  let dropping: Promise<void> | undefined;
  const drop = () => {
    dropping ??= (async () => {
      for (const name of created) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    })();
    return dropping;
  };
  process.once('SIGINT', () => {
    void drop().finally(() => process.exit(130));
  });
  const benchUrl = new URL(options.url);
  benchUrl.pathname = `/${database}`;
  const url = benchUrl.toString();
  const log = (text: string) => {
    if (!options.json) process.stderr.write(`${text}\n`);
  };
  const levels: LevelResult[] = [];
  let throughput: { jobsPerSecond: number; done: number } | undefined;
  let pickup: (Percentiles & { jobs: number }) | undefined;
  const rivals: Rival[] = [];
  try {
    const backend = await ilkkun.createBackend(url);
    try {
      let filled = 0;
      for (const size of options.sizes) {
        const t0 = Date.now();
        log(`filling to ${size} waiting jobs…`);
        await fill(backend, filled, size);
        const fillSeconds = (Date.now() - t0) / 1000;
        // the measurement removes jobs: top up to the level each time, so every level is measured at its size
        log(`measuring pops at ${size}…`);
        const pop1 = await measurePops(backend, options.samples, 1);
        const pop10 = await measurePops(backend, Math.ceil(options.samples / 3), 10);
        const taken = options.samples + Math.ceil(options.samples / 3) * 10;
        levels.push({ waiting: size, fillSeconds, pop1, pop10 });
        filled = size - taken;
      }
    } finally {
      await backend.close();
    }
    log(`throughput: ${options.consumers} consumers for ${options.seconds}s…`);
    throughput = await measureThroughput(ilkkun, url, options.consumers, options.seconds);
    log(`pickup latency: ${options.pickupRate} jobs/s for 10 s, consumer in another process…`);
    pickup = await measurePickup(ilkkun, url, options.pickupRate);
    if (options.rivals) {
      log('rivals: ilkkun runner, Perl TheSchwartz, raw SKIP LOCKED loop…');
      rivals.push(await rivalIlkkunRunner(ilkkun, (await scratch('_runner')).url, options.consumers));
      try {
        const perlDb = await scratch('_perl');
        rivals.push(await rivalTheSchwartz(ilkkun, perlDb.url, perlDb.name));
      } catch (err) {
        log(
          `TheSchwartz rival skipped: ${(err as Error).message.split('\n')[0]} (bash scripts/services/start.sh theschwartz)`,
        );
      }
      const rawDb = await scratch('_raw');
      rivals.push(
        await rivalRawLoop(mysql2, { ...connectionOf(options.url), database: rawDb.name }, options.consumers),
      );
    }
  } finally {
    await drop();
  }
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ levels, throughput, pickup, rivals, consumers: options.consumers }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    '| waiting jobs | fill (s) | pop max=1 p50 / p95 / p99 ms | pop max=10 p50 / p95 / p99 ms |',
    '|---:|---:|---|---|',
    ...levels.map(
      (l) =>
        `| ${l.waiting.toLocaleString('en')} | ${l.fillSeconds.toFixed(1)} | ${l.pop1.p50} / ${l.pop1.p95} / ${l.pop1.p99} | ${l.pop10.p50} / ${l.pop10.p95} / ${l.pop10.p99} |`,
    ),
    '',
    `pickup latency (another process, ${options.pickupRate} jobs/s): p50 ${pickup?.p50} ms, p95 ${pickup?.p95} ms, p99 ${pickup?.p99} ms, max ${pickup?.max} ms over ${pickup?.jobs} jobs`,
    `throughput at ${options.sizes.at(-1)?.toLocaleString('en')} waiting: ${throughput?.jobsPerSecond} jobs/s (${options.consumers} consumers in one process, pop 10 + ack each, ${throughput?.done} jobs)`,
  ];
  if (rivals.length > 0) {
    lines.push(
      '',
      `| system (same MariaDB, same run, ${RIVAL_SECONDS} s each) | jobs/s | jobs | note |`,
      '|---|---:|---:|---|',
      ...rivals.map((r) => `| ${r.system} | ${r.jobsPerSecond} | ${r.jobs} | ${r.note} |`),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`mysql-scale: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
