import type { ResultSetHeader } from 'mysql2/promise';
import type { Database } from '../db.js';
import { ceilSeconds, FENCE, JOB_BY_ID, NOW_MS, type SqlKit } from '../sql.js';

/**
 * Lease heartbeat: the lease now ends `leaseMs` after the server's now; `grabbed_until` follows
 * (rounded up), so Perl workers keep away too. The token stays the same. Affected rows are
 * counted as *matched* rows (mysql2 connects with CLIENT_FOUND_ROWS), so an extend that happens
 * to write the same values still counts as holding the lease. Idempotent, so a lost connection
 * is simply retried. Returns false when the lease is not held.
 *
 * Locks: one statement in autocommit, by primary key; its lock on the row ends with it.
 */
export async function extendLease(
  db: Database,
  kit: SqlKit,
  jobid: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const res = await db.query<ResultSetHeader>(
    `UPDATE ${JOB_BY_ID} SET \`ilkkun_lease_ms\` = ${NOW_MS} + ?, \`grabbed_until\` = ${ceilSeconds(`${NOW_MS} + ?`)}
     WHERE ${kit.id} = ? AND ${FENCE}`,
    [leaseMs, leaseMs, jobid, token],
    { action: 'extend' },
  );
  return res.affectedRows === 1;
}
