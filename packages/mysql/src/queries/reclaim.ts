import { leaseExpiredError } from '@ilkkun/core';
import type { ServerClock } from '../clock.js';
import type { Database } from '../db.js';
import { encodeError, type JobRow } from '../row-mapping.js';
import { NOW_MS, OWN_LEASE, type SqlKit } from '../sql.js';
import { moveToDead, writeExitStatus } from './dead.js';
import { errorInfo, insertError } from './errors.js';

interface ExpiredRow extends JobRow {
  now_ms: string;
}

/**
 * Recover the ilkkun leases of one queue that ran out without ack or requeue, so inspection shows
 * honest counts: each gets its "lease expired" error row (the attempt was counted at pop) and
 * becomes waiting again, or dead when that was its last attempt. Pops do the same for the rows
 * they take (see claim.ts); this is for rows nobody popped yet. Rows another transaction holds
 * are skipped (it is about to deal with them). Returns how many rows it moved.
 */
export async function reclaimExpired(
  db: Database,
  kit: SqlKit,
  clock: ServerClock,
  funcid: number,
  defaultMaxAttempts: number,
  keepExitStatusFor: number,
): Promise<number> {
  return db.transaction('reclaim', async (tx) => {
    const rows = await tx.query<ExpiredRow[]>(
      `SELECT ${kit.jobColumns}, ${NOW_MS} AS now_ms FROM \`job\`
       WHERE ${kit.func} = ? AND ${OWN_LEASE} AND \`ilkkun_lease_ms\` <= ${NOW_MS}
       FOR UPDATE SKIP LOCKED`,
      [funcid],
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
          `UPDATE \`job\` SET \`grabbed_until\` = 0, \`ilkkun_lease_ms\` = NULL, \`ilkkun_lease_token\` = NULL,
             \`ilkkun_last_error\` = ? WHERE ${kit.id} = ?`,
          [error, row.jobid],
        );
      }
    }
    return rows.length;
  });
}
