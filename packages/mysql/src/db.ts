import { BackendClosedError } from '@ilkkun/core';
import type { Pool, PoolConnection, QueryValues, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { classifyError, type ErrorKind, isRetryable, translateError } from './classify-error.js';

export type QueryResult = RowDataPacket[] | ResultSetHeader;

/** Anything statements can run on: the pool (autocommit) or one connection inside a transaction. */
export interface Db {
  query<T extends QueryResult>(sql: string, params?: readonly unknown[]): Promise<T>;
}

export interface TxContext {
  /**
   * True when an earlier run of this transaction failed while committing, so it may have been
   * applied after all (the server got COMMIT, the answer was lost). Writers that are not
   * idempotent check for that before reporting a lost lease.
   */
  readonly afterUncertainCommit: boolean;
}

/** Runs of one transaction before giving up with a retryable BackendUnavailableError. */
const MAX_RUNS = 6;
/**
 * Runs when the reason is a lock wait that timed out. Each wait is bounded by the session's
 * `innodb_lock_wait_timeout` (`lockWaitTimeoutSeconds`), and a stalled ilkkun session holding the
 * lock is ended by the server within the same time, so one more run normally gets through; a
 * lock nobody lets go of is reported after about three waits instead of outliving a lease unseen.
 */
const MAX_LOCK_WAIT_RUNS = 3;

/** Session settings every pooled connection gets before its first statement of ours. */
export interface SessionSettings {
  /**
   * Seconds a statement waits for a row lock before failing with a (retryable) lock-wait timeout
   * (`innodb_lock_wait_timeout`, server default 50, longer than the default 30 s lease), and on
   * MariaDB also how long a transaction may sit idle waiting for its client before the server
   * ends it and releases its locks (`idle_transaction_timeout`, server default: never).
   */
  lockWaitTimeoutSeconds: number;
}

/**
 * The connection pool, with the retry rules of the backend:
 * - a deadlock or lock-wait timeout re-runs the whole transaction (InnoDB rolled it back, or we do);
 * - a broken connection is thrown away and the work redone on a fresh one (the server rolls back
 *   whatever was open on the broken one);
 * - anything else is final and translated into an ilkkun error.
 * Backoff between runs is short and jittered, so two transactions that deadlocked on each other
 * do not collide again in lockstep.
 */
export class Database implements Db {
  private closed = false;

  constructor(
    private readonly pool: Pool,
    /** redacted host/database for messages */
    readonly where: string,
    session: SessionSettings,
  ) {
    // Every transaction of this backend runs at READ COMMITTED: no gap or next-key locks, and a
    // locking read by primary key releases at once the rows that fail its WHERE (so acks,
    // extends and requeues hold only rows of their own lease). A locking read through a secondary
    // index still keeps every row it scanned until the transaction ends, which is why claims and
    // reclaims lock by primary key only (see queries/claim.ts).
    // The lock-wait and idle-transaction bounds make sure no session, stalled or not, can make
    // another one wait for longer than a few seconds: a stalled worker (SIGSTOP, GC pause,
    // half-open connection) inside a transaction is cut off by the server, and a statement that
    // waits fails as a retryable lock-wait timeout. MySQL has no idle_transaction_timeout and
    // refuses that SET (unknown variable), which changes nothing else on the connection.
    // Queued on the connection before any statement of ours, so they are in force from the first one.
    const seconds = session.lockWaitTimeoutSeconds;
    pool.pool.on('connection', (connection) => {
      const ignore = () => {
        // a failure here means the connection is already broken (the next statement reports
        // it) or, for idle_transaction_timeout, that the server is MySQL
      };
      connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', ignore);
      connection.query('SET SESSION innodb_lock_wait_timeout = ?', [seconds], ignore);
      connection.query('SET SESSION idle_transaction_timeout = ?', [seconds], ignore);
    });
  }

  /** One statement in autocommit mode. Retried on deadlock, lock timeout and (when `idempotent`) a lost connection. */
  async query<T extends QueryResult>(
    sql: string,
    params: readonly unknown[] = [],
    options: { action?: string; idempotent?: boolean } = {},
  ): Promise<T> {
    const idempotent = options.idempotent ?? true;
    return this.retrying(options.action ?? 'query', async () => {
      const conn = await this.acquire();
      try {
        const [rows] = await conn.query(sql, [...params] as QueryValues);
        conn.release();
        return rows as T;
      } catch (err) {
        dispose(conn, classifyError(err));
        // a write whose connection broke may have been applied: only idempotent statements repeat
        if (!idempotent && classifyError(err) === 'connection') throw new FinalError(err);
        throw err;
      }
    });
  }

  /**
   * Run `fn` inside one transaction on one connection; commit when it resolves, roll back when it
   * throws. Re-run from the start on a deadlock, lock timeout or lost connection.
   */
  async transaction<T>(action: string, fn: (tx: Db, ctx: TxContext) => Promise<T>): Promise<T> {
    const state = { afterUncertainCommit: false };
    return this.retrying(action, async () => this.inTransaction(await this.acquire(), state, fn, false));
  }

  /**
   * `prepare` in autocommit, then, unless it found nothing to do (undefined), `fn` inside a
   * transaction, both on one connection, with START TRANSACTION queued on the connection together
   * with `fn`'s first statement (no turn of the event loop between them). Made for the claim: its
   * step 1 and its locking step follow each other as closely as the driver allows, so concurrent
   * claimers rarely pick the same candidates. `fn`'s first statement must be a read: were START
   * refused, it would have run outside the transaction (its error is thrown before `fn` goes on).
   * Retried as a whole, like `transaction`.
   */
  async prepared<P, T>(
    action: string,
    prepare: (db: Db) => Promise<P | undefined>,
    fn: (tx: Db, ctx: TxContext, prepared: P) => Promise<T>,
  ): Promise<T | undefined> {
    const state = { afterUncertainCommit: false };
    return this.retrying(action, async () => {
      const conn = await this.acquire();
      let prepared: P | undefined;
      try {
        prepared = await prepare(statementsOn(conn));
      } catch (err) {
        dispose(conn, classifyError(err));
        throw err;
      }
      if (prepared === undefined) {
        conn.release();
        return undefined;
      }
      const ready = prepared;
      return this.inTransaction(conn, state, (tx, ctx) => fn(tx, ctx, ready), true);
    });
  }

  private async inTransaction<T>(
    conn: PoolConnection,
    state: { afterUncertainCommit: boolean },
    fn: (tx: Db, ctx: TxContext) => Promise<T>,
    queueStart: boolean,
  ): Promise<T> {
    let committing = false;
    try {
      let start: Promise<unknown> | undefined = conn.query('START TRANSACTION');
      if (queueStart) {
        // observed with the first statement (or before COMMIT when there is none)
        start.catch(() => undefined);
      } else {
        await start;
        start = undefined;
      }
      const run = statementsOn(conn);
      const tx: Db = {
        query: async <R extends QueryResult>(sql: string, params: readonly unknown[] = []) => {
          if (!start) return run.query<R>(sql, params);
          const begun = start;
          start = undefined;
          const [, rows] = await Promise.all([begun, run.query<R>(sql, params)]);
          return rows;
        },
      };
      const result = await fn(tx, { afterUncertainCommit: state.afterUncertainCommit });
      if (start) await start;
      committing = true;
      await conn.query('COMMIT');
      conn.release();
      return result;
    } catch (err) {
      const kind = classifyError(err);
      if (committing && kind === 'connection') state.afterUncertainCommit = true;
      if (kind === 'connection') {
        conn.destroy();
      } else {
        try {
          await conn.query('ROLLBACK');
          conn.release();
        } catch {
          conn.destroy();
        }
      }
      throw err;
    }
  }

  /** Run `fn` on one connection without a transaction (session state such as GET_LOCK must stay on it). */
  async withConnection<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      const result = await fn(statementsOn(conn));
      conn.release();
      return result;
    } catch (err) {
      dispose(conn, classifyError(err));
      throw translateError(err, 'schema', this.where);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async acquire(): Promise<PoolConnection> {
    if (this.closed) throw new BackendClosedError('mysql backend');
    return this.pool.getConnection();
  }

  private async retrying<T>(action: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (err instanceof FinalError) throw translateError(err.cause, action, this.where);
        const kind = classifyError(err);
        if (this.closed) throw new BackendClosedError('mysql backend');
        const runs = kind === 'lock-timeout' ? MAX_LOCK_WAIT_RUNS : MAX_RUNS;
        if (!isRetryable(kind) || attempt >= runs) throw translateError(err, action, this.where);
        // deadlocks: a few ms is enough; a lost server: back off towards a second
        const base = kind === 'connection' ? 100 * 2 ** (attempt - 1) : 5 * 2 ** attempt;
        await new Promise((r) => setTimeout(r, Math.min(2000, base) * (0.5 + Math.random())));
      }
    }
  }
}

/** Wraps an error that must not be retried even though its kind usually is. */
class FinalError extends Error {
  constructor(override readonly cause: unknown) {
    super('final');
  }
}

/** Statements on one connection, as they come (autocommit, or inside a transaction opened on it). */
function statementsOn(conn: PoolConnection): Db {
  return {
    query: async <R extends QueryResult>(sql: string, params: readonly unknown[] = []) => {
      const [rows] = await conn.query(sql, [...params] as QueryValues);
      return rows as R;
    },
  };
}

function dispose(conn: PoolConnection, kind: ErrorKind): void {
  if (kind === 'connection') conn.destroy();
  else conn.release();
}
