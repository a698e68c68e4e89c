import {
  assertJobState,
  type Inspector,
  isValidQueueName,
  type JobRecord,
  type JobState,
  type ListOptions,
  pageBounds,
  type StateCounts,
} from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { classifyError } from './classify-error.js';
import type { ServerClock } from './clock.js';
import type { Database } from './db.js';
import type { FuncMap } from './funcmap.js';
import { deleteErrors, errorInfo } from './queries/errors.js';
import { reclaimExpired } from './queries/reclaim.js';
import { type DeadRow, type JobRow, needsErrorMessage, parseJobId, toRecord } from './row-mapping.js';
import { LEASE_END_MS, NOW_MS, placeholders, READY, type SqlKit } from './sql.js';

/** The parts of an open backend the inspector works through. */
export interface InspectorContext {
  db: Database;
  kit: SqlKit;
  funcmap: FuncMap;
  clock: ServerClock;
  defaultMaxAttempts: number;
  keepExitStatusFor: number;
  assertOpen(): void;
  /** ring the doorbell of waiting pops in this process */
  notify(): void;
}

/** How each live state reads in SQL (fixed fragments; values are bound). */
const STATE_FILTER: Readonly<Record<'waiting' | 'delayed' | 'active', string>> = {
  waiting: READY,
  delayed: `\`ilkkun_due_ms\` > ${NOW_MS} AND ${LEASE_END_MS} <= ${NOW_MS}`,
  active: `${LEASE_END_MS} > ${NOW_MS}`,
};

const STATE_OF_ROW = `CASE WHEN ${LEASE_END_MS} > ${NOW_MS} THEN 'active' WHEN \`ilkkun_due_ms\` > ${NOW_MS} THEN 'delayed' ELSE 'waiting' END`;

interface StatedRow extends JobRow {
  state: JobState;
}

interface CountRow extends RowDataPacket {
  state: JobState;
  n: number;
}

interface NameRow extends RowDataPacket {
  funcname: string;
}

interface IdRow extends RowDataPacket {
  jobid: string;
}

/**
 * Inspection for the CLI and dashboard, with the memory backend's semantics. `completed` is
 * always empty: `ack` deletes the row, as TheSchwartz does (its `exitstatus` records, kept with
 * `keepExitStatusFor`, hold no payload to list).
 */
export class MysqlInspector implements Inspector {
  constructor(private readonly ctx: InspectorContext) {}

  async queues(): Promise<string[]> {
    this.ctx.assertOpen();
    const k = this.ctx.kit;
    const rows = await this.ctx.db.query<NameRow[]>(
      `SELECT f.${k.funcTableName} AS \`funcname\` FROM ${k.funcTable} f
       WHERE EXISTS (SELECT 1 FROM \`job\` j WHERE j.${k.func} = f.${k.funcTableId})
          OR EXISTS (SELECT 1 FROM \`ilkkun_dead\` d WHERE d.\`funcid\` = f.${k.funcTableId})`,
      [],
      { action: 'inspect' },
    );
    // Perl class names are valid queue names; anything else in funcmap is not addressable here
    return rows
      .map((r) => r.funcname)
      .filter(isValidQueueName)
      .sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    const counts: StateCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };
    const funcid = await this.reclaimed(queue);
    if (funcid === undefined) return counts;
    const rows = await this.ctx.db.query<CountRow[]>(
      `SELECT ${STATE_OF_ROW} AS state, COUNT(*) AS n FROM \`job\` WHERE ${this.ctx.kit.func} = ? GROUP BY 1`,
      [funcid],
      { action: 'inspect' },
    );
    for (const row of rows) counts[row.state] = Number(row.n);
    const [dead] = await this.ctx.db.query<CountRow[]>(
      'SELECT COUNT(*) AS n FROM `ilkkun_dead` WHERE `funcid` = ?',
      [funcid],
      { action: 'inspect' },
    );
    counts.dead = Number(dead?.n ?? 0);
    return counts;
  }

  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    this.ctx.assertOpen();
    assertJobState(state, true);
    const { offset, limit } = pageBounds(options);
    if (state === 'completed') return [];
    const funcid = await this.reclaimed(queue);
    if (funcid === undefined) return [];
    if (state === 'dead') {
      const rows = await this.ctx.db.query<DeadRow[]>(
        'SELECT * FROM `ilkkun_dead` WHERE `funcid` = ? ORDER BY `jobid` DESC LIMIT ? OFFSET ?',
        [funcid, limit, offset],
        { action: 'inspect' },
      );
      return this.deadRecords(queue, rows);
    }
    const rows = await this.ctx.db.query<StatedRow[]>(
      `SELECT ${this.ctx.kit.jobColumns}, ? AS state FROM \`job\`
       WHERE ${this.ctx.kit.func} = ? AND ${STATE_FILTER[state]} ORDER BY ${this.ctx.kit.popOrder} LIMIT ? OFFSET ?`,
      [state, funcid, limit, offset],
      { action: 'inspect' },
    );
    return this.liveRecords(queue, rows);
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    this.ctx.assertOpen();
    const jobid = parseJobId(id);
    if (jobid === undefined) return undefined;
    const funcid = await this.reclaimed(queue);
    if (funcid === undefined) return undefined;
    const live = await this.ctx.db.query<StatedRow[]>(
      `SELECT ${this.ctx.kit.jobColumns}, ${STATE_OF_ROW} AS state FROM \`job\` WHERE ${this.ctx.kit.id} = ? AND ${this.ctx.kit.func} = ?`,
      [jobid, funcid],
      { action: 'inspect' },
    );
    if (live.length > 0) return (await this.liveRecords(queue, live))[0];
    const dead = await this.ctx.db.query<DeadRow[]>(
      'SELECT * FROM `ilkkun_dead` WHERE `jobid` = ? AND `funcid` = ?',
      [jobid, funcid],
      { action: 'inspect' },
    );
    return (await this.deadRecords(queue, dead))[0];
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    this.ctx.assertOpen();
    const funcid = await this.ctx.funcmap.lookup(queue);
    if (funcid === undefined) return 0;
    const k = this.ctx.kit;
    const moved = await this.ctx.db.transaction('retryDead', async (tx) => {
      const wanted = ids?.map(parseJobId).filter((x): x is string => x !== undefined);
      if (wanted && wanted.length === 0) return 0;
      // Oldest first, so when dead jobs share a unique key the oldest gets it (as in memory).
      // Locks: dead rows of this queue (no worker holds or needs those), the job rows it inserts
      // (new, so nobody else's) and their error rows; a live job's key is checked with a plain
      // read (below), so no live job is locked while this transaction waits for its client.
      const candidates = await tx.query<IdRow[]>(
        `SELECT \`jobid\` FROM \`ilkkun_dead\` WHERE \`funcid\` = ?${wanted ? ` AND \`jobid\` IN (${placeholders(wanted.length)})` : ''}
         ORDER BY \`jobid\` FOR UPDATE`,
        [funcid, ...(wanted ?? [])],
      );
      let count = 0;
      for (const { jobid } of candidates) {
        // A newer live job holding its unique key keeps it dead rather than break uniqueness.
        // That is checked with a plain read (NOT EXISTS) before inserting: an INSERT that hits
        // the key would take a shared lock on the live job's index entry until COMMIT, and that
        // job's worker could not ack it until then (however long this client took).
        let inserted: ResultSetHeader;
        try {
          // Qudo's retry_cnt is left out: it starts again at its default 0
          inserted = await tx.query<ResultSetHeader>(
            `INSERT INTO \`job\` (${k.jobFromDeadColumns}, \`run_after\`, \`grabbed_until\`, \`ilkkun_run_at_ms\`)
             SELECT ${k.jobFromDeadValues}, UNIX_TIMESTAMP(), 0, ${NOW_MS}
             FROM \`ilkkun_dead\` WHERE \`jobid\` = ? AND NOT EXISTS (
               SELECT 1 FROM \`job\` j WHERE j.${k.func} = \`ilkkun_dead\`.\`funcid\` AND j.\`uniqkey\` = \`ilkkun_dead\`.\`uniqkey\`)`,
            [jobid],
          );
        } catch (err) {
          // the key was taken between the check and the insert
          if (classifyError(err) === 'duplicate') continue;
          throw err;
        }
        if (inserted.affectedRows === 0) continue;
        await tx.query('DELETE FROM `ilkkun_dead` WHERE `jobid` = ?', [jobid]);
        // the attempt count lives in the error rows: a retried job starts with its full budget
        await deleteErrors(tx, k, [String(jobid)]);
        count++;
      }
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
    if (state === 'completed') return 0;
    const funcid = await this.reclaimed(queue);
    if (funcid === undefined) return 0;
    const wanted = ids?.map(parseJobId).filter((x): x is string => x !== undefined);
    if (wanted && wanted.length === 0) return 0;
    const k = this.ctx.kit;
    const byId = (id: string) => (wanted ? ` AND ${id} IN (${placeholders(wanted.length)})` : '');
    // One statement in autocommit: it scans the queue's rows through the funcid index and locks
    // what it passes (leased rows too) only while it runs; no client round trip falls inside it.
    const sql =
      state === 'dead'
        ? `DELETE FROM \`ilkkun_dead\` WHERE \`funcid\` = ?${byId('`jobid`')}`
        : `DELETE FROM \`job\` WHERE ${k.func} = ? AND ${STATE_FILTER[state]}${byId(k.id)}`;
    const res = await this.ctx.db.query<ResultSetHeader>(sql, [funcid, ...(wanted ?? [])], {
      action: 'inspect',
      idempotent: false,
    });
    return res.affectedRows;
  }

  async purge(queue: string): Promise<number> {
    this.ctx.assertOpen();
    const funcid = await this.ctx.funcmap.lookup(queue);
    if (funcid === undefined) return 0;
    let total = 0;
    // In chunks: one huge DELETE would hold its locks and undo log for the whole queue at once.
    // Each chunk is a statement in autocommit, so its locks end with it.
    const k = this.ctx.kit;
    for (const [table, func] of [
      ['`job`', k.func],
      ['`ilkkun_dead`', '`funcid`'],
    ] as const) {
      for (;;) {
        const res = await this.ctx.db.query<ResultSetHeader>(
          `DELETE FROM ${table} WHERE ${func} = ? LIMIT 10000`,
          [funcid],
          { action: 'purge', idempotent: false },
        );
        total += res.affectedRows;
        if (res.affectedRows < 10000) break;
      }
    }
    for (;;) {
      const res = await this.ctx.db.query<ResultSetHeader>(
        `DELETE FROM ${k.errorTable} WHERE ${k.flavor.attempts === 'retry-count' ? k.func : '`funcid`'} = ? LIMIT 10000`,
        [funcid],
        { action: 'purge' },
      );
      if (res.affectedRows < 10000) break;
    }
    return total;
  }

  /** The queue's funcid after recovering its expired leases (so states and attempts are honest). */
  private async reclaimed(queue: string): Promise<number | undefined> {
    this.ctx.assertOpen();
    const funcid = await this.ctx.funcmap.lookup(queue);
    if (funcid === undefined) return undefined;
    await reclaimExpired(
      this.ctx.db,
      this.ctx.kit,
      this.ctx.clock,
      funcid,
      this.ctx.defaultMaxAttempts,
      this.ctx.keepExitStatusFor,
    );
    return funcid;
  }

  private async liveRecords(queue: string, rows: readonly StatedRow[]): Promise<JobRecord[]> {
    const byId = new Map(rows.map((r) => [r.jobid, r]));
    const errors = await errorInfo(
      this.ctx.db,
      this.ctx.kit,
      rows.map((r) => r.jobid),
      (id, failures) => needsErrorMessage(byId.get(id)?.ilkkun_last_error ?? null, failures),
    );
    const mapCtx = { queue, clock: this.ctx.clock, defaultMaxAttempts: this.ctx.defaultMaxAttempts };
    return rows.map((row) => {
      const info = errors.get(row.jobid) ?? { failures: 0 };
      // attempts counted at pop: an active job's current attempt is not an error row yet
      const attempts = info.failures + (row.state === 'active' ? 1 : 0);
      return toRecord(row, row.state, info, attempts, mapCtx);
    });
  }

  private async deadRecords(queue: string, rows: readonly DeadRow[]): Promise<JobRecord[]> {
    const mapCtx = { queue, clock: this.ctx.clock, defaultMaxAttempts: this.ctx.defaultMaxAttempts };
    return rows.map((row) => {
      const info = { failures: Number(row.attempts) };
      try {
        return toRecord(row, 'dead', info, info.failures, mapCtx);
      } catch {
        // an unreadable arg (the reason it is dead): show a placeholder rather than fail the listing
        return toRecord(row, 'dead', info, info.failures, mapCtx, JSON.stringify('<unreadable arg>'));
      }
    });
  }
}
