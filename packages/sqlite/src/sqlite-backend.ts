import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import {
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
} from '@ilkkun/core';
import type Database from 'better-sqlite3';
import { withBusyRetry } from './busy-retry.js';
import { openDatabase } from './connection.js';
import { type ResolvedSqliteOptions, resolveOptions, type SqliteBackendOptions } from './options.js';
import { reclaimExpired } from './reclaim.js';
import { encodeError, type JobRow, parseJobId, popOrder, toLeased, toMillis } from './row-mapping.js';
import { acquireSharedFile, releaseSharedFile, type SharedFile } from './shared-file.js';
import { isBusy, translateSqliteError } from './sqlite-errors.js';
import { SqliteInspector } from './sqlite-inspector.js';
import { prepareStatements, type Statements } from './statements.js';

const CAPABILITIES: Capabilities = {
  priorities: true,
  delays: true,
  uniqueKeys: true,
  extend: true,
  // no blocking read exists in SQLite: waits poll `data_version` (see pop)
  nativeWait: false,
  multiProcess: true,
  durable: true,
  leaseGranularityMs: 1,
  inspect: { counts: true, list: true, retryDead: true, deleteJobs: true, purge: true },
};

/** First poll after an empty attempt: short, because right after activity more work is likely. */
const MIN_POLL_MS = 2;

/**
 * What one waiting pop last saw of `PRAGMA data_version`. Kept per wait, not per backend:
 * with a shared value, one of several concurrent waits noticing a change would hide it from the others.
 */
interface VersionWatch {
  seen: number;
}

/** The parts of an open backend its inspector works through. */
export interface SqliteContext {
  readonly db: Database.Database;
  readonly stmts: Statements;
  assertOpen(): void;
  /** run one statement or transaction, waiting out another connection's lock (see withBusyRetry) */
  run<T>(action: string, fn: () => T): Promise<T>;
  /** ring the doorbell of every waiting pop on this file in this process */
  notify(): void;
}

/**
 * The embedded default backend: one SQLite file in WAL mode, shareable by several OS processes.
 * better-sqlite3 is synchronous, so every call runs to completion on the event loop; each write
 * is one short `BEGIN IMMEDIATE` transaction, which also serialises writers across processes.
 */
export class SqliteBackend implements Backend {
  readonly name = 'sqlite';
  readonly capabilities = CAPABILITIES;
  readonly inspector: Inspector;
  /** absolute path of the database file */
  readonly file: string;
  private readonly options: ResolvedSqliteOptions;
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly shared: SharedFile;
  private readonly sharedKey: string;
  /** aborted by close() so waiting pops end at once instead of touching a closed connection */
  private readonly waits = new Set<AbortController>();
  private closed = false;
  private readonly pushTx: Database.Transaction<(jobs: readonly NewJob[], now: number) => PushResult[]>;
  private readonly ackTx: Database.Transaction<
    (handles: readonly LeaseHandle[]) => Array<LeaseLostError | null>
  >;
  private readonly popTx: Database.Transaction<
    (queues: readonly string[], max: number, leaseMs: number) => LeasedJobRecord[]
  >;

  constructor(file: string, options: SqliteBackendOptions = {}) {
    this.options = resolveOptions({}, { ...options });
    this.file = resolve(file);
    this.db = openDatabase(this.file, this.options);
    try {
      this.stmts = prepareStatements(this.db);
      this.sharedKey = realpathSync(this.file);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.shared = acquireSharedFile(this.sharedKey);
    this.pushTx = this.db.transaction((jobs, now) => this.pushInTx(jobs, now));
    this.popTx = this.db.transaction((queues, max, leaseMs) => this.popInTx(queues, max, leaseMs));
    this.ackTx = this.db.transaction((handles) => this.ackInTx(handles));
    const context: SqliteContext = {
      db: this.db,
      stmts: this.stmts,
      assertOpen: () => this.assertOpen(),
      run: (action, fn) => this.run(action, fn),
      notify: () => this.shared.wake.notify(),
    };
    this.inspector = new SqliteInspector(context);
  }

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    if (jobs.length === 0) return [];
    // One transaction for the whole batch: one fsync, and all-or-nothing.
    const results = await this.run('push', () => this.pushTx.immediate(jobs, Date.now()));
    if (results.some((r) => !r.duplicate)) this.shared.wake.notify();
    return results;
  }

  private pushInTx(jobs: readonly NewJob[], now: number): PushResult[] {
    const { insert, uniqueHolder } = this.stmts;
    return jobs.map((job) => {
      const runAt = toMillis(job.runAt);
      if (!Number.isFinite(runAt)) throw new ConfigError(`job for queue ${job.queue} has an invalid runAt`);
      const uniqueKey = job.uniqueKey ?? null;
      const backoff = job.backoff === undefined ? null : JSON.stringify(job.backoff);
      if (uniqueKey !== null) {
        // Looked up first rather than left to ON CONFLICT: a skipped AUTOINCREMENT insert still
        // burns an id. Inside the write transaction nobody can take or free the key meanwhile;
        // the holder may be a job inserted earlier in this very batch.
        const holder = uniqueHolder.get(job.queue, uniqueKey);
        if (holder !== undefined) return { id: String(holder), duplicate: true };
      }
      const inserted = insert.run(
        job.queue,
        job.payload,
        job.priority,
        runAt,
        job.maxAttempts,
        uniqueKey,
        backoff,
        now,
      );
      return { id: String(inserted.lastInsertRowid), duplicate: false };
    });
  }

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs } = normalizePopOptions(options);
    const wanted = [...new Set(queues)];
    if (waitMs === 0) return this.popNow(wanted, max, leaseMs);

    // A private controller joins the caller's signal and close(), without AbortSignal.any
    // (whose listeners on long-lived signals have leaked in some Node versions).
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.waits.add(controller);
    const watch: VersionWatch = { seen: -1 };
    try {
      return await pollingWait({
        attempt: async () => {
          if (this.closed) return [];
          try {
            return await this.popNow(wanted, max, leaseMs, watch);
          } catch (err) {
            // close() while this attempt waited for a lock: the wait ends empty, like an abort
            if (this.closed) return [];
            throw err;
          }
        },
        waitMs,
        signal: controller.signal,
        // pushes and requeues in this process ring this at once
        wake: this.shared.wake,
        nextDueAt: async () => (this.closed ? undefined : this.nextDueAt(wanted)),
        // commits by other processes: a 1.5 µs pragma per poll instead of a query
        changed: () => this.closed || this.dataChanged(watch),
        minPollMs: MIN_POLL_MS,
        maxPollMs: this.options.pollMaxMs,
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.waits.delete(controller);
    }
  }

  private popNow(
    queues: readonly string[],
    max: number,
    leaseMs: number,
    watch?: VersionWatch,
  ): Promise<LeasedJobRecord[]> {
    return this.run('pop', () => {
      // Read before looking, so a commit landing during this attempt still counts as a change.
      if (watch) watch.seen = this.stmts.dataVersion.get()!;
      if (queues.length === 0 || max < 1) return [];
      // Nothing to take? Then answer from a read: WAL reads take no lock, so idle pollers never
      // queue up behind (or in front of) writers for the write lock.
      const now = Date.now();
      if (!queues.some((q) => this.stmts.hasWork.get(q, now, q, now) === 1)) return [];
      return this.popTx.immediate(queues, max, leaseMs);
    });
  }

  private popInTx(queues: readonly string[], max: number, leaseMs: number): LeasedJobRecord[] {
    // The clock is read after BEGIN IMMEDIATE got the lock, which may have taken a while.
    const now = Date.now();
    for (const queue of queues) reclaimExpired(this.stmts, queue, now);
    let candidates: JobRow[] = [];
    for (const queue of queues) {
      for (const row of this.stmts.ready.iterate(queue, now, max)) candidates.push(row);
    }
    if (queues.length > 1) candidates = candidates.sort(popOrder).slice(0, max);
    const expiresAt = now + leaseMs;
    return candidates.map((row) => {
      const token = randomUUID();
      this.stmts.lease.run(token, expiresAt, row.id);
      return toLeased({
        ...row,
        state: 'active',
        attempts_made: row.attempts_made + 1,
        lease_token: token,
        lease_expires_at: expiresAt,
      });
    });
  }

  /** When the earliest delayed job or lease of these queues comes due: the idle pop need not sleep past it. */
  private nextDueAt(queues: readonly string[]): Promise<number | undefined> {
    return this.run('pop', () => {
      let next: number | undefined;
      for (const queue of queues) {
        for (const t of [this.stmts.nextRunAt.get(queue), this.stmts.nextLeaseExpiry.get(queue)]) {
          if (typeof t === 'number' && (next === undefined || t < next)) next = t;
        }
      }
      return next;
    });
  }

  /** Did another connection commit since `watch` last looked? One cheap pragma, no query. */
  private dataChanged(watch: VersionWatch): boolean {
    let version: number;
    try {
      version = this.stmts.dataVersion.get()!;
    } catch (err) {
      // A lock in the way of this read (WAL recovery) means someone is writing: look properly.
      if (isBusy(err)) return true;
      throw translateSqliteError(err, 'pop', this.file);
    }
    if (version === watch.seen) return false;
    watch.seen = version;
    return true;
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    const id = parseJobId(handle.id);
    if (id === undefined) throw new LeaseLostError(handle.id);
    // The clock is read inside the try, so time spent waiting for a lock cannot stretch a lease.
    const { changes } = await this.run('ack', () => this.stmts.ack.run(id, handle.lease.token, Date.now()));
    if (changes === 0) throw new LeaseLostError(handle.id);
  }

  /** Many acks in one transaction (one fsync); entry i is null when job i was acked, else its LeaseLostError. */
  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    if (handles.length === 0) return [];
    return this.run('ack', () => this.ackTx.immediate(handles));
  }

  private ackInTx(handles: readonly LeaseHandle[]): Array<LeaseLostError | null> {
    const now = Date.now();
    return handles.map((handle) => {
      const id = parseJobId(handle.id);
      if (id !== undefined && this.stmts.ack.run(id, handle.lease.token, now).changes === 1) return null;
      return new LeaseLostError(handle.id);
    });
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const id = parseJobId(handle.id);
    if (id === undefined) throw new LeaseLostError(handle.id);
    // Same rules as MemoryBackend: a release gives the attempt back and ignores `error`;
    // `dead` is ignored for a release (a job handed back unattempted has not failed).
    const release = options.release === true;
    const dead = options.dead === true && !release;
    const runAt = options.runAt === undefined ? undefined : toMillis(options.runAt);
    if (runAt !== undefined && !Number.isFinite(runAt))
      throw new ConfigError('requeue runAt must be a valid Date');
    const error = !release && options.error ? encodeError(options.error) : null;
    const { changes } = await this.run('requeue', () => {
      const now = Date.now();
      return this.stmts.requeue.run({
        id,
        token: handle.lease.token,
        now,
        state: dead ? 'dead' : 'pending',
        runAt: dead ? null : (runAt ?? now),
        release: release ? 1 : 0,
        error,
      });
    });
    if (changes === 0) throw new LeaseLostError(handle.id);
    if (!dead) this.shared.wake.notify();
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    assertLeaseMs(leaseMs, 'extend leaseMs');
    const id = parseJobId(handle.id);
    if (id === undefined) throw new LeaseLostError(handle.id);
    let expiresAt = 0;
    const { changes } = await this.run('extend', () => {
      const now = Date.now();
      expiresAt = now + leaseMs;
      return this.stmts.extend.run(expiresAt, id, handle.lease.token, now);
    });
    if (changes === 0) throw new LeaseLostError(handle.id);
    return new Date(expiresAt);
  }

  /**
   * Closes the connection. Jobs leased through it keep their leases, which expire as usual;
   * every commit was already durable, so nothing is lost. Waiting pops resolve with [].
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wait of this.waits) wait.abort();
    this.waits.clear();
    releaseSharedFile(this.sharedKey);
    this.db.close();
  }

  private run<T>(action: string, fn: () => T): Promise<T> {
    return withBusyRetry(action, this.file, this.options.busyTimeoutMs, () => {
      // A retry may come after close(): the connection is gone, so say so plainly.
      this.assertOpen();
      return fn();
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError('sqlite backend');
  }
}
