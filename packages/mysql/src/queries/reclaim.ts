import { leaseExpiredError } from '@ilkkun/core';
import type { RowDataPacket } from 'mysql2/promise';
import type { ServerClock } from '../clock.js';
import type { Database } from '../db.js';
import { encodeError, type JobRow } from '../row-mapping.js';
import { JOB_BY_ID, NOW_MS, OWN_LEASE, placeholders, type SqlKit } from '../sql.js';
import { moveToDead, writeExitStatus } from './dead.js';
import { errorInfo, insertError } from './errors.js';

interface ExpiredRow extends JobRow {
  now_ms: string;
}

interface IdRow extends RowDataPacket {
  jobid: string;
}

/**
 * Recover the ilkkun leases of one queue that ran out without ack or requeue, so inspection shows
 * honest counts: each gets its "lease expired" error row (the attempt was counted at pop) and
 * becomes waiting again, or dead when that was its last attempt. Pops do the same for the rows
 * they take (see claim.ts); this is for rows nobody popped yet. Rows another transaction holds
 * are skipped (it is about to deal with them). Returns how many rows it moved.
 *
 * Locks: the expired rows are found with a plain read (no locks), then locked by primary key.
 * Locking them straight through the queue's index would also lock, until COMMIT, every live
 * leased row it scanned past (see claim.ts), so an inspection call that stalled between its
 * statements would hold up the acks of every worker on the queue.
 */
export async function reclaimExpired(
  db: Database,
  kit: SqlKit,
  clock: ServerClock,
  funcid: number,
  defaultMaxAttempts: number,
  keepExitStatusFor: number,
): Promise<number> {
  const expired = `${OWN_LEASE} AND \`ilkkun_lease_ms\` <= ${NOW_MS}`;
  const candidates = await db.query<IdRow[]>(
    `SELECT ${kit.id} AS \`jobid\` FROM \`job\` WHERE ${kit.func} = ? AND ${expired}`,
    [funcid],
    { action: 'reclaim' },
  );
  if (candidates.length === 0) return 0;
  const ids = candidates.map((r) => String(r.jobid));
  return db.transaction('reclaim', async (tx) => {
    const rows = await tx.query<ExpiredRow[]>(
      `SELECT ${kit.jobColumns}, ${NOW_MS} AS now_ms FROM ${JOB_BY_ID}
       WHERE ${kit.id} IN (${placeholders(ids.length)}) AND ${expired}
       FOR UPDATE SKIP LOCKED`,
      ids,
    );
    if (rows.length === 0) return 0;
    const errors = await errorInfo(
      tx,
      kit,
      rows.map((r) => r.jobid),
    );
    for (const row of rows) {
      const failures = (errors.get(row.jobid)?.failures ?? 0) + 1;
      const error = encodeError(leaseExpiredError(failures, clock.toLocal(Number(row.now_ms)).getTime()));
      await insertError(tx, kit, row.jobid, row.funcid, 'lease expired');
      if (failures >= (row.ilkkun_max_attempts ?? defaultMaxAttempts)) {
        await writeExitStatus(tx, kit, [{ jobid: row.jobid, funcid: row.funcid }], 1, keepExitStatusFor);
        await moveToDead(tx, kit, row.jobid, failures, error);
      } else {
        await tx.query(
          `UPDATE ${JOB_BY_ID} SET \`grabbed_until\` = 0, \`ilkkun_lease_ms\` = NULL, \`ilkkun_lease_token\` = NULL,
             \`ilkkun_last_error\` = ? WHERE ${kit.id} = ?`,
          [error, row.jobid],
        );
      }
    }
    return rows.length;
  });
}
