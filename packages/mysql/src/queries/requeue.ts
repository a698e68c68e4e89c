import type { RequeueOptions } from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Database } from '../db.js';
import { encodeError } from '../row-mapping.js';
import { FENCE, RUN_AFTER_FROM_DELAY, RUN_AT_FROM_DELAY, type SqlKit } from '../sql.js';
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
  return db.transaction('requeue', async (tx) => {
    if (!dead) {
      const res = await tx.query<ResultSetHeader>(
        `UPDATE \`job\` SET \`grabbed_until\` = 0, \`ilkkun_lease_ms\` = NULL, \`ilkkun_lease_token\` = NULL,
           \`run_after\` = ${RUN_AFTER_FROM_DELAY}, \`ilkkun_run_at_ms\` = ${RUN_AT_FROM_DELAY},
           \`ilkkun_last_error\` = COALESCE(?, \`ilkkun_last_error\`)
         WHERE ${kit.id} = ? AND ${FENCE}`,
        [delta, delta, delta, delta, errorJson, jobid, token],
      );
      if (res.affectedRows === 0) return false;
      if (!release) {
        await insertError(tx, kit, jobid, undefined, message);
        await maybePruneErrors(tx, kit);
      }
      return true;
    }
    const [row] = await tx.query<LockedRow[]>(
      `SELECT ${kit.id} AS \`jobid\`, ${kit.func} AS \`funcid\`, \`ilkkun_last_error\` FROM \`job\` WHERE ${kit.id} = ? AND ${FENCE} FOR UPDATE`,
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
}
