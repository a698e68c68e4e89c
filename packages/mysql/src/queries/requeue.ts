import type { RequeueOptions } from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Database } from '../db.js';
import { encodeError } from '../row-mapping.js';
import { FENCE, JOB_BY_ID, RUN_AFTER_FROM_DELAY, RUN_AT_FROM_DELAY, type SqlKit } from '../sql.js';
import { moveToDead, writeExitStatus } from './dead.js';
import { errorInfo, insertError, maybePruneErrors } from './errors.js';

interface LockedRow extends RowDataPacket {
  jobid: string;
  funcid: number;
  ilkkun_last_error: string | null;
}

/**
 * Give a leased job back. Same rules as the memory backend: a release (graceful shutdown) gives
 * the attempt back and records nothing; otherwise the attempt is recorded as an `error` row (so
 * Perl's `failures` sees it too) and the job is scheduled for `runAt`, or moved to dead.
 * Returns false when `token` is not the job's current lease (nothing changed).
 */
export async function requeueJob(
  db: Database,
  kit: SqlKit,
  jobid: string,
  token: string,
  options: RequeueOptions,
  keepExitStatusFor: number,
): Promise<boolean> {
  const release = options.release === true;
  const dead = options.dead === true && !release;
  const errorJson = !release && options.error ? encodeError(options.error) : null;
  const message = options.error?.message ?? (dead ? 'moved to dead' : 'requeued');
  // The delay, not the absolute time: added to the server clock in SQL (see push).
  const delta = options.runAt === undefined ? 0 : Math.round(options.runAt.getTime() - Date.now());
  // Locks: every row this transaction touches is the job it holds the lease on (by primary key,
  // fenced; a fence that fails releases the row at once at READ COMMITTED) or a new error /
  // exitstatus / ilkkun_dead row of that job, so nothing another worker needs is held while the
  // transaction waits for this client.
  const requeued = await db.transaction('requeue', async (tx) => {
    if (!dead) {
      const res = await tx.query<ResultSetHeader>(
        `UPDATE ${JOB_BY_ID} SET \`grabbed_until\` = 0, \`ilkkun_lease_ms\` = NULL, \`ilkkun_lease_token\` = NULL,
           \`run_after\` = ${RUN_AFTER_FROM_DELAY}, \`ilkkun_run_at_ms\` = ${RUN_AT_FROM_DELAY},
           \`ilkkun_last_error\` = COALESCE(?, \`ilkkun_last_error\`)
         WHERE ${kit.id} = ? AND ${FENCE}`,
        [delta, delta, delta, delta, errorJson, jobid, token],
      );
      if (res.affectedRows === 0) return false;
      if (!release) await insertError(tx, kit, jobid, undefined, message);
      return true;
    }
    const [row] = await tx.query<LockedRow[]>(
      `SELECT ${kit.id} AS \`jobid\`, ${kit.func} AS \`funcid\`, \`ilkkun_last_error\` FROM ${JOB_BY_ID} WHERE ${kit.id} = ? AND ${FENCE} FOR UPDATE`,
      [jobid, token],
    );
    if (!row) return false;
    await insertError(tx, kit, jobid, Number(row.funcid), message);
    const failures = (await errorInfo(tx, kit, [jobid])).get(jobid)?.failures ?? 1;
    const lastError =
      errorJson ?? row.ilkkun_last_error ?? encodeError({ message, attempt: failures, at: new Date() });
    await writeExitStatus(tx, kit, [{ jobid, funcid: Number(row.funcid) }], 1, keepExitStatusFor);
    await moveToDead(tx, kit, jobid, failures, lastError);
    return true;
  });
  // Housekeeping after the commit, as its own statement: pruning locks old error rows of other
  // jobs, which must not stay locked while the requeue waits for this client. A failure only
  // leaves the pruning to a later requeue, as TheSchwartz's lazy pruning does.
  if (requeued && !release && !dead) await maybePruneErrors(db, kit).catch(() => undefined);
  return requeued;
}
