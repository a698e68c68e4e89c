import type Database from 'better-sqlite3';
import { JOB_COLUMNS, type JobRow, type StoredState } from './row-mapping.js';
import { POP_INDEX, TABLE } from './schema.js';

/**
 * Every hot-path statement, prepared once per connection and reused: preparing costs more
 * than running most of these. Statements are per queue (`queue = ?`) rather than
 * `queue IN (...)`: with equality on the leading columns the pop index yields rows already
 * in pop order, where an IN list would force a sort of every ready job of every queue.
 */
export function prepareStatements(db: Database.Database): Statements {
  return {
    /** changes whenever another connection (in any process) commits to the file */
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),

    insert: db.prepare<[string, string, number, number, number, string | null, string | null, number]>(
      `INSERT INTO ${TABLE} (queue, state, payload, priority, run_at, attempts_made, max_attempts, unique_key, backoff, created_at)
       VALUES (?, 'pending', ?, ?, ?, 0, ?, ?, ?, ?)`,
    ),
    /** the live holder of a unique key (served by the partial unique index) */
    uniqueHolder: db
      .prepare<[string, string], number>(
        `SELECT id FROM ${TABLE} WHERE queue = ? AND unique_key = ? AND state IN ('pending', 'active')`,
      )
      .pluck(),

    /** anything a pop could take (ready, or an expired lease to reclaim)? Read-only, so idle polls take no write lock */
    hasWork: db
      .prepare<[string, number, string, number], number>(
        `SELECT EXISTS (SELECT 1 FROM ${TABLE} WHERE queue = ? AND state = 'pending' AND run_at <= ?)
             OR EXISTS (SELECT 1 FROM ${TABLE} WHERE queue = ? AND state = 'active' AND lease_expires_at <= ?)`,
      )
      .pluck(),
    hasExpired: db
      .prepare<[string, number], number>(
        `SELECT EXISTS (SELECT 1 FROM ${TABLE} WHERE queue = ? AND state = 'active' AND lease_expires_at <= ?)`,
      )
      .pluck(),
    expired: db.prepare<[string, number], Pick<JobRow, 'id' | 'attempts_made' | 'max_attempts'>>(
      `SELECT id, attempts_made, max_attempts FROM ${TABLE}
       WHERE queue = ? AND state = 'active' AND lease_expires_at <= ?`,
    ),
    /** [state, run_at (null keeps it), last_error, id] */
    reclaim: db.prepare<[StoredState, number | null, string, number]>(
      `UPDATE ${TABLE} SET state = ?, run_at = COALESCE(?, run_at), last_error = ?, lease_token = NULL, lease_expires_at = NULL
       WHERE id = ?`,
    ),

    /** INDEXED BY pins the plan: the due index would also qualify, but then every ready job gets sorted */
    ready: db.prepare<[string, number, number], JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${TABLE} INDEXED BY ${POP_INDEX}
       WHERE queue = ? AND state = 'pending' AND run_at <= ?
       ORDER BY priority DESC, run_at, id LIMIT ?`,
    ),
    /** [token, lease_expires_at, id] */
    lease: db.prepare<[string, number, number]>(
      `UPDATE ${TABLE} SET state = 'active', attempts_made = attempts_made + 1, lease_token = ?, lease_expires_at = ?
       WHERE id = ?`,
    ),
    nextRunAt: db
      .prepare<[string], number | null>(
        `SELECT MIN(run_at) FROM ${TABLE} WHERE queue = ? AND state = 'pending'`,
      )
      .pluck(),
    nextLeaseExpiry: db
      .prepare<[string], number | null>(
        `SELECT MIN(lease_expires_at) FROM ${TABLE} WHERE queue = ? AND state = 'active'`,
      )
      .pluck(),

    // Fencing: each of these changes a row only while the presented token is its current,
    // unexpired lease, in one statement, so there is no window between check and write.
    ack: db.prepare<[number, string, number]>(
      `DELETE FROM ${TABLE} WHERE id = ? AND state = 'active' AND lease_token = ? AND lease_expires_at > ?`,
    ),
    requeue: db.prepare<[RequeueParams]>(
      `UPDATE ${TABLE} SET
         state = @state,
         run_at = COALESCE(@runAt, run_at),
         attempts_made = CASE WHEN @release THEN max(attempts_made - 1, 0) ELSE attempts_made END,
         last_error = COALESCE(@error, last_error),
         lease_token = NULL,
         lease_expires_at = NULL
       WHERE id = @id AND state = 'active' AND lease_token = @token AND lease_expires_at > @now`,
    ),
    /** [new lease_expires_at, id, token, now] */
    extend: db.prepare<[number, number, string, number]>(
      `UPDATE ${TABLE} SET lease_expires_at = ?
       WHERE id = ? AND state = 'active' AND lease_token = ? AND lease_expires_at > ?`,
    ),
  };
}

type Stmt<P extends unknown[], R = unknown> = Database.Statement<P, R>;

export interface RequeueParams {
  id: number;
  token: string;
  now: number;
  state: StoredState;
  /** null keeps run_at (a job moved to dead keeps its history) */
  runAt: number | null;
  /** 1 gives the attempt counted by the pop back */
  release: 0 | 1;
  /** null keeps last_error */
  error: string | null;
}

export interface Statements {
  dataVersion: Stmt<[], number>;
  /** [queue, payload, priority, run_at, max_attempts, unique_key, backoff, created_at] */
  insert: Stmt<[string, string, number, number, number, string | null, string | null, number]>;
  uniqueHolder: Stmt<[string, string], number>;
  /** [queue, now, queue, now] → 0 | 1 */
  hasWork: Stmt<[string, number, string, number], number>;
  /** [queue, now] → 0 | 1 */
  hasExpired: Stmt<[string, number], number>;
  expired: Stmt<[string, number], Pick<JobRow, 'id' | 'attempts_made' | 'max_attempts'>>;
  reclaim: Stmt<[StoredState, number | null, string, number]>;
  /** [queue, now, limit] */
  ready: Stmt<[string, number, number], JobRow>;
  lease: Stmt<[string, number, number]>;
  nextRunAt: Stmt<[string], number | null>;
  nextLeaseExpiry: Stmt<[string], number | null>;
  /** [id, token, now] */
  ack: Stmt<[number, string, number]>;
  requeue: Stmt<[RequeueParams]>;
  extend: Stmt<[number, number, string, number]>;
}
