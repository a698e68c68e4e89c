import {
  assertJobState,
  type Inspector,
  type JobRecord,
  type JobState,
  type ListOptions,
  pageBounds,
  type StateCounts,
} from '@ilkkun/core';
import type Database from 'better-sqlite3';
import { reclaimExpired } from './reclaim.js';
import { JOB_COLUMNS, type JobRow, parseJobId, publicState, toRecord } from './row-mapping.js';
import { TABLE } from './schema.js';
import type { SqliteContext } from './sqlite-backend.js';

/**
 * How each public state reads in SQL. Fixed fragments only: no caller input is ever spliced
 * into SQL; values travel as bound parameters (`@now`).
 */
const STATE_FILTER: Readonly<Record<JobState, string>> = {
  waiting: `state = 'pending' AND run_at <= @now`,
  delayed: `state = 'pending' AND run_at > @now`,
  active: `state = 'active'`,
  completed: `state = 'completed'`,
  dead: `state = 'dead'`,
};

/** waiting/delayed/active in pop order; completed/dead newest first (the order the contract asks for) */
const LIST_ORDER: Readonly<Record<JobState, string>> = {
  waiting: 'priority DESC, run_at, id',
  delayed: 'priority DESC, run_at, id',
  active: 'priority DESC, run_at, id',
  completed: 'id DESC',
  dead: 'id DESC',
};

interface StateParams {
  queue: string;
  now: number;
}

/** Inspection for the CLI and dashboard, with MemoryInspector's semantics. */
export class SqliteInspector implements Inspector {
  private readonly queuesStmt: Database.Statement<[], string>;
  private readonly countsStmt: Database.Statement<[StateParams], { state: JobState; n: number }>;
  private readonly getStmt: Database.Statement<[number, string], JobRow>;
  private readonly deadIdsStmt: Database.Statement<[string], number>;
  private readonly retryStmt: Database.Statement<[number, number, string]>;
  private readonly purgeStmt: Database.Statement<[string]>;
  private readonly listStmts = new Map<
    JobState,
    Database.Statement<[StateParams & { limit: number; offset: number }], JobRow>
  >();
  private readonly deleteStmts = new Map<string, Database.Statement<[StateParams & { id?: number }]>>();

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    // A skip scan over the pop index: one index seek per distinct queue instead of reading every
    // job (what SELECT DISTINCT does). Index order is byte order, the same as JS's sort for the
    // ASCII queue alphabet.
    this.queuesStmt = db
      .prepare<[], string>(
        `WITH RECURSIVE q(name) AS (
           SELECT MIN(queue) FROM ${TABLE}
           UNION ALL
           SELECT (SELECT MIN(queue) FROM ${TABLE} WHERE queue > q.name) FROM q WHERE q.name IS NOT NULL
         )
         SELECT name FROM q WHERE name IS NOT NULL`,
      )
      .pluck();
    // One pass over the queue's rows; pending splits into waiting/delayed against the same `now`.
    this.countsStmt = db.prepare<[StateParams], { state: JobState; n: number }>(
      `SELECT CASE WHEN state = 'pending' THEN (CASE WHEN run_at > @now THEN 'delayed' ELSE 'waiting' END) ELSE state END AS state,
              COUNT(*) AS n
       FROM ${TABLE} WHERE queue = @queue GROUP BY 1`,
    );
    this.getStmt = db.prepare<[number, string], JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${TABLE} WHERE id = ? AND queue = ?`,
    );
    this.deadIdsStmt = db
      .prepare<[string], number>(`SELECT id FROM ${TABLE} WHERE queue = ? AND state = 'dead' ORDER BY id`)
      .pluck();
    // OR IGNORE: when a live job took the key meanwhile, the unique index refuses this row and
    // it simply stays dead (changes = 0) instead of breaking uniqueness or failing the batch.
    this.retryStmt = db.prepare<[number, number, string]>(
      `UPDATE OR IGNORE ${TABLE} SET state = 'pending', attempts_made = 0, run_at = ?
       WHERE id = ? AND queue = ? AND state = 'dead'`,
    );
    this.purgeStmt = db.prepare<[string]>(`DELETE FROM ${TABLE} WHERE queue = ?`);
  }

  async queues(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.ctx.run('inspect', () => this.queuesStmt.all());
  }

  async counts(queue: string): Promise<StateCounts> {
    this.ctx.assertOpen();
    const rows = await this.withReclaimed(queue, (now) => this.countsStmt.all({ queue, now }));
    const counts: StateCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    this.ctx.assertOpen();
    assertJobState(state, true);
    const { offset, limit } = pageBounds(options);
    const stmt = this.listStatement(state);
    return this.withReclaimed(queue, (now) =>
      stmt.all({ queue, now, limit, offset }).map((row) => toRecord(row, state)),
    );
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    this.ctx.assertOpen();
    const rowid = parseJobId(id);
    if (rowid === undefined) return undefined;
    return this.withReclaimed(queue, (now) => {
      const row = this.getStmt.get(rowid, queue);
      return row ? toRecord(row, publicState(row, now)) : undefined;
    });
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    this.ctx.assertOpen();
    const moved = await this.write(queue, (now) => {
      // Insertion (id) order, so when several dead jobs share a unique key the oldest gets it, as in MemoryBackend.
      const candidates = ids
        ? [...new Set(ids.map(parseJobId).filter((id): id is number => id !== undefined))].sort(
            (a, b) => a - b,
          )
        : this.deadIdsStmt.all(queue);
      let count = 0;
      for (const id of candidates) count += this.retryStmt.run(now, id, queue).changes;
      return count;
    });
    if (moved > 0) this.ctx.notify();
    return moved;
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    this.ctx.assertOpen();
    assertJobState(state, false);
    return this.write(queue, (now) => {
      if (!ids) return this.deleteStatement(state, false).run({ queue, now }).changes;
      const byId = this.deleteStatement(state, true);
      let count = 0;
      for (const id of new Set(ids)) {
        const rowid = parseJobId(id);
        if (rowid !== undefined) count += byId.run({ queue, now, id: rowid }).changes;
      }
      return count;
    });
  }

  async purge(queue: string): Promise<number> {
    this.ctx.assertOpen();
    // No reclaim first: every row of the queue goes, whatever its lease says.
    return this.ctx.run('purge', () => this.purgeStmt.run(queue).changes);
  }

  /**
   * Run `read` on a view where the queue's expired leases are already reclaimed, so what the
   * CLI and dashboard show is honest. The write lock is taken only when something has expired;
   * otherwise one statement is its own consistent snapshot and no lock is needed.
   */
  private withReclaimed<T>(queue: string, read: (now: number) => T): Promise<T> {
    return this.ctx.run('inspect', () => {
      const now = Date.now();
      if (this.ctx.stmts.hasExpired.get(queue, now) !== 1) return read(now);
      return this.ctx.db
        .transaction(() => {
          const inTx = Date.now();
          reclaimExpired(this.ctx.stmts, queue, inTx);
          return read(inTx);
        })
        .immediate();
    });
  }

  /** A write transaction on a reclaimed view of the queue (as MemoryInspector's `jobsOf`). */
  private write<T>(queue: string, change: (now: number) => T): Promise<T> {
    return this.ctx.run('inspect', () =>
      this.ctx.db
        .transaction(() => {
          const now = Date.now();
          reclaimExpired(this.ctx.stmts, queue, now);
          return change(now);
        })
        .immediate(),
    );
  }

  private listStatement(state: JobState) {
    let stmt = this.listStmts.get(state);
    if (!stmt) {
      stmt = this.ctx.db.prepare<[StateParams & { limit: number; offset: number }], JobRow>(
        `SELECT ${JOB_COLUMNS} FROM ${TABLE} WHERE queue = @queue AND ${STATE_FILTER[state]}
         ORDER BY ${LIST_ORDER[state]} LIMIT @limit OFFSET @offset`,
      );
      this.listStmts.set(state, stmt);
    }
    return stmt;
  }

  private deleteStatement(state: JobState, byId: boolean) {
    const key = `${state}:${byId}`;
    let stmt = this.deleteStmts.get(key);
    if (!stmt) {
      stmt = this.ctx.db.prepare<[StateParams & { id?: number }]>(
        `DELETE FROM ${TABLE} WHERE queue = @queue AND ${STATE_FILTER[state]}${byId ? ' AND id = @id' : ''}`,
      );
      this.deleteStmts.set(key, stmt);
    }
    return stmt;
  }
}
