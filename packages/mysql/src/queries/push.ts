import type { NewJob, PushResult } from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { encodeArg } from '../arg-codec.js';
import { classifyError } from '../classify-error.js';
import type { Database, Db } from '../db.js';
import type { Flavor } from '../flavors/index.js';
import { RUN_AFTER_FROM_DELAY, RUN_AT_FROM_DELAY, type SqlKit } from '../sql.js';

export interface PushDeps {
  db: Database;
  kit: SqlKit;
  storableQueues: ReadonlySet<string>;
  /**
   * A multi-row INSERT gets consecutive ids (innodb_autoinc_lock_mode 0 or 1 and
   * auto_increment_increment 1, checked at connect), so one statement can insert a whole run of
   * jobs and still report each id. Otherwise (lock mode 2, Galera) every job is its own INSERT.
   */
  multiRowIds: boolean;
}

/** Most rows in one multi-row INSERT: keeps a statement well under max_allowed_packet for small payloads. */
const CHUNK = 500;

/** The columns a push writes; Qudo has no `coalesce` (and `retry_cnt` starts at its default 0). */
const columns = (kit: SqlKit) =>
  `${kit.func}, \`arg\`, \`uniqkey\`, ${kit.insertTime}, \`run_after\`, \`grabbed_until\`, \`priority\`, ${kit.flavor.jobCoalesce === null ? '' : `\`${kit.flavor.jobCoalesce}\`, `}\`ilkkun_priority\`, \`ilkkun_run_at_ms\`, \`ilkkun_max_attempts\`, \`ilkkun_backoff\``;

/**
 * One row's VALUES. runAt is stored relative to the server's clock: the caller's delay
 * (runAt − local now, negative for past runAts) is added to `NOW_MS` in SQL, so a job due "now"
 * is due on the server at once whatever the two clocks say, and relative order within a batch is
 * exact. `run_after` gets the same instant in whole seconds (see RUN_AFTER_FROM_DELAY),
 * `insert_time` the server's second (TheSchwartz writes the client's; it is informational).
 */
const values = (kit: SqlKit) =>
  `?, ?, ?, UNIX_TIMESTAMP(), ${RUN_AFTER_FROM_DELAY}, 0, ?, ${kit.flavor.jobCoalesce === null ? '' : 'NULL, '}?, ${RUN_AT_FROM_DELAY}, ?, ?`;
const row = (kit: SqlKit) => `(${values(kit)})`;

interface Prepared {
  job: NewJob;
  params: unknown[];
}

interface IdRow extends RowDataPacket {
  jobid: string;
}

/**
 * Insert a batch in one transaction (all or nothing, one commit). Runs of jobs without a unique
 * key go in multi-row INSERTs; a job with a key is inserted alone so a duplicate refuses only that
 * row, then the holder's id is looked up (TheSchwartz's UNIQUE (funcid, uniqkey) does the
 * de-duplication, inside the batch too).
 */
export async function pushJobs(
  deps: PushDeps,
  jobs: readonly NewJob[],
  funcids: ReadonlyMap<string, number>,
): Promise<PushResult[]> {
  const localNow = Date.now();
  const prepared: Prepared[] = jobs.map((job) => {
    const funcid = funcids.get(job.queue)!;
    const delta = Math.round(job.runAt.getTime() - localNow);
    return {
      job,
      params: [
        funcid,
        encodeArg(job.payload, deps.storableQueues.has(job.queue)),
        job.uniqueKey ?? null,
        delta,
        delta,
        delta,
        perlPriority(job.priority, deps.kit.flavor),
        job.priority,
        delta,
        job.maxAttempts,
        job.backoff === undefined ? null : JSON.stringify(job.backoff),
      ],
    };
  });
  const COLUMNS = columns(deps.kit);
  const ROW = row(deps.kit);
  return deps.db.transaction('push', async (tx) => {
    const results: PushResult[] = [];
    let i = 0;
    while (i < prepared.length) {
      const current = prepared[i]!;
      if (current.job.uniqueKey !== undefined) {
        results.push(await insertKeyed(tx, deps.kit, current));
        i++;
        continue;
      }
      let end = i;
      const limit = deps.multiRowIds ? CHUNK : 1;
      while (end < prepared.length && end - i < limit && prepared[end]!.job.uniqueKey === undefined) end++;
      const run = prepared.slice(i, end);
      const inserted = await tx.query<ResultSetHeader>(
        `INSERT INTO \`job\` (${COLUMNS}) VALUES ${run.map(() => ROW).join(', ')}`,
        run.flatMap((p) => p.params),
      );
      const first = BigInt(inserted.insertId);
      run.forEach((_, k) => {
        results.push({ id: String(first + BigInt(k)), duplicate: false });
      });
      i = end;
    }
    return results;
  });
}

/**
 * A job with a unique key. Whether the key is taken is checked with a plain read (NOT EXISTS) in
 * the INSERT itself: an INSERT that hits the key takes a shared lock on the holder's index entry
 * until COMMIT, and the holder may be a job a worker has leased, whose ack would then wait for
 * this push's transaction (and for however long its client stalls). Only a key taken by a
 * concurrent push between the check and the insert still ends in a duplicate-key error.
 */
async function insertKeyed(tx: Db, kit: SqlKit, p: Prepared): Promise<PushResult> {
  for (let tries = 0; tries < 3; tries++) {
    try {
      const inserted = await tx.query<ResultSetHeader>(
        `INSERT INTO \`job\` (${columns(kit)}) SELECT ${values(kit)} FROM DUAL
         WHERE NOT EXISTS (SELECT 1 FROM \`job\` j WHERE j.${kit.func} = ? AND j.\`uniqkey\` = ?)`,
        [...p.params, p.params[0], p.job.uniqueKey],
      );
      if (inserted.affectedRows === 1) return { id: String(inserted.insertId), duplicate: false };
    } catch (err) {
      if (classifyError(err) !== 'duplicate') throw err;
    }
    const [holder] = await tx.query<IdRow[]>(
      `SELECT ${kit.id} AS \`jobid\` FROM \`job\` WHERE ${kit.func} = ? AND \`uniqkey\` = ?`,
      [p.params[0], p.job.uniqueKey],
    );
    if (holder) return { id: String(holder.jobid), duplicate: true };
    // the holder finished between our INSERT and the look-up: the key is free, insert again
  }
  throw new Error(`push: unique key ${JSON.stringify(p.job.uniqueKey)} kept changing hands`);
}

/**
 * What the upstream `priority` column gets. Qudo's is INT UNSIGNED NOT NULL DEFAULT 0, sorted
 * higher first: 0..4294967295 as given (negative ones as 0, its default). TheSchwartz's SMALLINT
 * UNSIGNED `priority` column gets (Perl workers with `prioritize`
 * sort by it, higher first, NULL last): 1..65535 as given (capped), 0 and below as NULL — the
 * value Perl clients write when they give none, so default jobs of both languages tie. The exact
 * int32 priority is in `ilkkun_priority`.
 */
export function perlPriority(priority: number, flavor?: Flavor): number | null {
  if (flavor && !flavor.priorityNullable) return Math.min(Math.max(priority, 0), flavor.priorityMax);
  return priority >= 1 ? Math.min(priority, 65_535) : null;
}
