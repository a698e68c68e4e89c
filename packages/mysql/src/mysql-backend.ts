import {
  AckBatcher,
  assertLeaseMs,
  type Backend,
  BackendClosedError,
  type Capabilities,
  ConfigError,
  type Inspector,
  type LeasedJobRecord,
  type LeaseHandle,
  LeaseLostError,
  type NewJob,
  normalizePopOptions,
  type PopOptions,
  type PushResult,
  pollingWait,
  type RequeueOptions,
  redactUrl,
  WakeSignal,
} from '@ilkkun/core';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { ServerClock } from './clock.js';
import { probeServer, type ServerInfo } from './connection.js';
import { Database } from './db.js';
import { flavorOf } from './flavors/index.js';
import { FuncMap } from './funcmap.js';
import { Gate } from './gate.js';
import { MysqlInspector } from './inspector.js';
import type { ResolvedMysqlOptions } from './options.js';
import type { ParsedMysqlUrl } from './parse-url.js';
import { ackJobs } from './queries/ack.js';
import { type ClaimDeps, type ClaimTarget, claimOptimistic } from './queries/claim.js';
import { claimSkipLocked } from './queries/claim-skip-locked.js';
import { extendLease } from './queries/extend.js';
import { pushJobs } from './queries/push.js';
import { requeueJob } from './queries/requeue.js';
import { parseJobId } from './row-mapping.js';
import { type MigrateResult, migrate, POP_INDEX, type SchemaReport, verifySchema } from './schema.js';
import { READY, type SqlKit, sqlKit } from './sql.js';

const CAPABILITIES: Capabilities = {
  priorities: true,
  delays: true,
  uniqueKeys: true,
  extend: true,
  // MySQL has no blocking read: waits poll adaptively, and pushes in this process ring a doorbell
  nativeWait: false,
  multiProcess: true,
  durable: true,
  // exact ms in ilkkun's columns; only what Perl sees is rounded to seconds
  leaseGranularityMs: 1,
  // job.arg is a MEDIUMBLOB (16 MiB); core's 256 KiB default stays the limit
  inspect: { counts: true, list: true, retryDead: true, deleteJobs: true, purge: true },
};

/** First poll interval after an empty attempt: short, since right after activity more work is likely. */
const MIN_POLL_MS = 5;
/** Rounds of claiming when every claimed job turned out exhausted or unreadable (moved to dead), or was taken by others first. */
const MAX_CLAIM_ROUNDS = 5;

/**
 * Backends on the same database in this process share one doorbell, rung by any push, and one
 * claim gate (see claim-skip-locked.ts), so their claims do not pick the same candidates.
 */
const doorbells = new Map<string, { wake: WakeSignal; claimGate: Gate; users: number }>();

interface ReadyRow extends RowDataPacket {
  ready: number;
}

/**
 * The MySQL / MariaDB backend on TheSchwartz's tables, or Qudo's with `flavor=qudo` (every
 * statement takes its table and column names from the flavour, see src/flavors/). See docs/backends/mysql.md for the
 * schema, the claim, the lease fencing and how it shares a database with Perl workers.
 */
export class MysqlBackend implements Backend {
  readonly name = 'mysql';
  readonly capabilities = CAPABILITIES;
  readonly inspector: Inspector;
  /** how pops claim jobs on this server */
  readonly claimStrategy: 'skip-locked' | 'optimistic';
  readonly server: ServerInfo;
  private readonly db: Database;
  private readonly kit: SqlKit;
  private readonly funcmap: FuncMap;
  private readonly clock = new ServerClock();
  private readonly wake: WakeSignal;
  private readonly doorbellKey: string;
  private readonly acks: AckBatcher;
  private readonly claimDeps: ClaimDeps;
  /** aborted by close() so waiting pops end at once */
  private readonly waits = new Set<AbortController>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    db: Database,
    server: ServerInfo,
    private readonly options: ResolvedMysqlOptions,
    doorbellKey: string,
  ) {
    this.db = db;
    this.server = server;
    this.clock.observe(server.nowMs, server.sentAt, server.receivedAt);
    this.kit = sqlKit(flavorOf(options.flavor));
    this.funcmap = new FuncMap(db, this.kit);
    this.claimStrategy =
      options.claim === 'auto' ? (server.skipLocked ? 'skip-locked' : 'optimistic') : options.claim;
    this.doorbellKey = doorbellKey;
    const bell = doorbells.get(doorbellKey) ?? { wake: new WakeSignal(), claimGate: new Gate(), users: 0 };
    bell.users++;
    doorbells.set(doorbellKey, bell);
    this.wake = bell.wake;
    // Every commit is an fsync: concurrent single acks share one transaction (core's batcher over ackMany)
    this.acks = new AckBatcher(this);
    this.claimDeps = {
      db,
      kit: this.kit,
      clock: this.clock,
      defaultMaxAttempts: options.defaultMaxAttempts,
      keepExitStatusFor: options.keepExitStatusFor,
      serverFlavor: server.flavor,
      claimGate: bell.claimGate,
    };
    this.inspector = new MysqlInspector({
      db,
      kit: this.kit,
      funcmap: this.funcmap,
      clock: this.clock,
      defaultMaxAttempts: options.defaultMaxAttempts,
      keepExitStatusFor: options.keepExitStatusFor,
      assertOpen: () => this.assertOpen(),
      notify: () => this.wake.notify(),
    });
  }

  /** Connect, look at the server, and check (or create) the schema per `options.schema`. */
  static async open(
    target: ParsedMysqlUrl,
    options: ResolvedMysqlOptions,
    url: string,
    /** for the migrate command: connect without checking the schema first */
    open: { skipSchema?: boolean } = {},
  ): Promise<MysqlBackend> {
    const pool = createPool({
      host: target.host,
      port: target.port,
      ...(target.user === undefined ? {} : { user: target.user }),
      ...(target.password === undefined ? {} : { password: target.password }),
      database: target.database,
      connectionLimit: options.connectionLimit,
      maxIdle: options.connectionLimit,
      connectTimeout: options.connectTimeoutMs,
      enableKeepAlive: true,
      // BIGINT jobids and ms timestamps arrive as strings: no precision is lost beyond 2^53
      supportBigNumbers: true,
      bigNumberStrings: true,
      ...(options.ssl ? { ssl: {} } : {}),
    });
    const where = redactUrl(url.replace(/\?.*$/, ''));
    const db = new Database(pool, where, { lockWaitTimeoutSeconds: options.lockWaitTimeoutSeconds });
    try {
      const server = await probeServer(db);
      if (options.claim === 'skip-locked' && !server.skipLocked) {
        throw new ConfigError(
          `claim=skip-locked needs MariaDB ≥ 10.6 or MySQL ≥ 8; ${where} runs ${server.version} (use claim=auto or optimistic)`,
        );
      }
      if (!open.skipSchema) await prepareSchema(db, options, server);
      return new MysqlBackend(db, server, options, `${target.host}:${target.port}/${target.database}`);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    if (jobs.length === 0) return [];
    return this.track(async () => {
      const funcids = new Map<string, number>();
      for (const queue of new Set(jobs.map((j) => j.queue)))
        funcids.set(queue, await this.funcmap.ensure(queue));
      const results = await pushJobs(
        {
          db: this.db,
          kit: this.kit,
          storableQueues: this.options.storableQueues,
          multiRowIds: this.server.multiRowIds,
        },
        jobs,
        funcids,
      );
      if (results.some((r) => !r.duplicate)) this.wake.notify();
      return results;
    });
  }

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs } = normalizePopOptions(options);
    const wanted = [...new Set(queues)];
    if (waitMs === 0) return this.track(() => this.popNow(wanted, max, leaseMs, false));

    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.waits.add(controller);
    let first = true;
    try {
      return await pollingWait({
        attempt: async () => {
          if (this.closed) return [];
          // The first attempt claims straight away; later polls first ask a cheap read-only
          // question, so an idle waiting pop costs one indexed SELECT per poll, no transaction.
          const precheck = !first;
          first = false;
          try {
            return await this.track(() => this.popNow(wanted, max, leaseMs, precheck));
          } catch (err) {
            if (this.closed) return [];
            throw err;
          }
        },
        waitMs,
        signal: controller.signal,
        wake: this.wake,
        minPollMs: MIN_POLL_MS,
        maxPollMs: this.options.pollMaxMs,
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.waits.delete(controller);
    }
  }

  private async popNow(
    queues: readonly string[],
    max: number,
    leaseMs: number,
    precheck: boolean,
  ): Promise<LeasedJobRecord[]> {
    const targets: ClaimTarget[] = [];
    for (const queue of queues) {
      const funcid = await this.funcmap.lookup(queue);
      if (funcid !== undefined) targets.push({ queue, funcid });
    }
    if (targets.length === 0) return [];
    if (precheck && !(await this.anyReady(targets))) return [];
    const claim = this.claimStrategy === 'skip-locked' ? claimSkipLocked : claimOptimistic;
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const { jobs, buried, contended } = await claim(this.claimDeps, targets, max, leaseMs);
      // only when everything claimed went to dead, or other claimers took every ready job this
      // claim had found, is it worth looking again at once
      if (jobs.length > 0 || (buried === 0 && !contended)) return jobs;
    }
    return [];
  }

  private async anyReady(targets: readonly ClaimTarget[]): Promise<boolean> {
    const exists = targets
      .map(
        () =>
          `EXISTS (SELECT 1 FROM \`job\` FORCE INDEX (\`${POP_INDEX}\`) WHERE ${this.kit.func} = ? AND ${READY})`,
      )
      .join(' OR ');
    const [row] = await this.db.query<ReadyRow[]>(
      `SELECT (${exists}) AS ready`,
      targets.map((t) => t.funcid),
      { action: 'pop' },
    );
    return Number(row?.ready) === 1;
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    if (parseJobId(handle.id) === undefined) throw new LeaseLostError(handle.id);
    // Concurrent acks (a runner's slots finishing together) share one transaction and one commit.
    await this.track(() => this.acks.ack(handle));
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    if (handles.length === 0) return [];
    return this.track(() => ackJobs(this.db, this.kit, handles, this.options.keepExitStatusFor));
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const jobid = parseJobId(handle.id);
    if (jobid === undefined) throw new LeaseLostError(handle.id);
    if (options.runAt !== undefined && !Number.isFinite(options.runAt.getTime())) {
      throw new ConfigError('requeue runAt must be a valid Date');
    }
    const ok = await this.track(() =>
      requeueJob(this.db, this.kit, jobid, handle.lease.token, options, this.options.keepExitStatusFor),
    );
    if (!ok) throw new LeaseLostError(handle.id);
    if (!(options.dead === true && options.release !== true)) this.wake.notify();
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    const ms = assertLeaseMs(leaseMs, 'extend leaseMs');
    const jobid = parseJobId(handle.id);
    if (jobid === undefined) throw new LeaseLostError(handle.id);
    const before = Date.now();
    const ok = await this.track(() => extendLease(this.db, this.kit, jobid, handle.lease.token, ms));
    if (!ok) throw new LeaseLostError(handle.id);
    // the server set now + ms during the call; the earliest local reading of that is safe to report
    return new Date(before + ms);
  }

  /** Add what the schema lacks (see `migrate` in schema.ts). */
  async migrate(): Promise<MigrateResult> {
    this.assertOpen();
    return this.db.withConnection((conn) => migrate(conn, this.server.collation, this.kit.flavor));
  }

  /** Compare the database with what the backend needs; changes nothing. */
  async verifySchema(): Promise<SchemaReport> {
    this.assertOpen();
    return this.db.withConnection((conn) => verifySchema(conn, this.kit.flavor));
  }

  /**
   * Jobs leased through this backend keep their leases, which expire as usual; every call's
   * commit was durable, so nothing is lost. Waiting pops resolve with []; calls still running
   * finish first (bounded), so an ack in flight is not cut off mid-transaction.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wait of this.waits) wait.abort();
    this.waits.clear();
    this.wake.notify();
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    const bell = doorbells.get(this.doorbellKey);
    if (bell && --bell.users <= 0) doorbells.delete(this.doorbellKey);
    await this.db.close();
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError('mysql backend');
  }
}

/** Per `options.schema`: create a fresh schema, migrate an existing one, or only verify. */
async function prepareSchema(db: Database, options: ResolvedMysqlOptions, server: ServerInfo): Promise<void> {
  const flavor = flavorOf(options.flavor);
  const report = await db.withConnection((conn) => verifySchema(conn, flavor));
  if (report.ok) return;
  const allowed = options.schema === 'migrate' || (options.schema === 'create' && !report.hasJobTable);
  if (allowed) {
    const result = await db.withConnection((conn) => migrate(conn, server.collation, flavor));
    if (result.report.ok) return;
    throw new ConfigError(
      `mysql schema on ${db.where} is still incomplete: ${result.report.problems.join('; ')}`,
    );
  }
  const why = report.problems.join('; ');
  throw new ConfigError(
    options.schema === 'verify'
      ? `mysql schema on ${db.where} is not ready (schema=verify changes nothing): ${why}`
      : `mysql database ${db.where} has ${flavor.name === 'qudo' ? 'Qudo' : 'TheSchwartz'} tables without ilkkun's columns (${why}); add them with: ilkkun migrate --url <url> (or open with ?schema=migrate)`,
  );
}
