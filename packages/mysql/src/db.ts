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
  ) {
    // Every transaction of this backend runs at READ COMMITTED: a locking read then locks only
    // the rows it returns (no gap or next-key locks on rows it scanned past), which is what lets
    // many claimers share the head of one queue without waiting on each other. Queued on the
    // connection before any statement of ours, so it is in force from the first one.
    pool.pool.on('connection', (connection) => {
      connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', () => {
        // a failure here means the connection is already broken; the next statement reports it
      });
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
    let afterUncertainCommit = false;
    return this.retrying(action, async () => {
      const conn = await this.acquire();
      const tx: Db = {
        query: async <R extends QueryResult>(sql: string, params: readonly unknown[] = []) => {
          const [rows] = await conn.query(sql, [...params] as QueryValues);
          return rows as R;
        },
      };
      let committing = false;
      try {
        await conn.query('START TRANSACTION');
        const result = await fn(tx, { afterUncertainCommit });
        committing = true;
        await conn.query('COMMIT');
        conn.release();
        return result;
      } catch (err) {
        const kind = classifyError(err);
        if (committing && kind === 'connection') afterUncertainCommit = true;
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
    });
  }

  /** Run `fn` on one connection without a transaction (session state such as GET_LOCK must stay on it). */
  async withConnection<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      const result = await fn({
        query: async <R extends QueryResult>(sql: string, params: readonly unknown[] = []) => {
          const [rows] = await conn.query(sql, [...params] as QueryValues);
          return rows as R;
        },
      });
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
        if (!isRetryable(kind) || attempt >= MAX_RUNS) throw translateError(err, action, this.where);
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

function dispose(conn: PoolConnection, kind: ErrorKind): void {
  if (kind === 'connection') conn.destroy();
  else conn.release();
}
