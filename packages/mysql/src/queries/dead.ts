import type { ResultSetHeader } from 'mysql2/promise';
import type { Db } from '../db.js';
import { DELETE_JOB_BY_ID, JOB_BY_ID, NOW_MS, placeholders, type SqlKit } from '../sql.js';

/**
 * Move a job row to `ilkkun_dead` (same transaction as the caller's other writes): its last error
 * is set first so the copy carries it, then the row leaves `job`, which frees its unique key and
 * hides it from Perl workers (TheSchwartz deletes permanently failed jobs too).
 * Returns false when the row was not there. Callers hold the job (its lease, or its claim), and
 * every statement reaches that one row by primary key.
 */
export async function moveToDead(
  db: Db,
  kit: SqlKit,
  jobid: string,
  attempts: number,
  lastErrorJson: string,
): Promise<boolean> {
  await db.query(`UPDATE ${JOB_BY_ID} SET \`ilkkun_last_error\` = ? WHERE ${kit.id} = ?`, [
    lastErrorJson,
    jobid,
  ]);
  const copied = await db.query<ResultSetHeader>(
    `INSERT INTO \`ilkkun_dead\` (${kit.deadColumns}, \`attempts\`, \`died_at_ms\`)
     SELECT ${kit.deadFromJob}, ?, ${NOW_MS} FROM \`job\` WHERE ${kit.id} = ?`,
    [attempts, jobid],
  );
  if (copied.affectedRows === 0) return false;
  await db.query(`${DELETE_JOB_BY_ID} WHERE ${kit.id} = ?`, [jobid]);
  return true;
}

/**
 * The completion record, written before the job row leaves `job`. TheSchwartz's `exitstatus`,
 * written only when `keepExitStatusFor` > 0 (Perl's
 * `keep_exit_status_for`): status 0 = done, 1 = failed for good. Like TheSchwartz, one write in
 * ten also removes up to 1000 expired records.
 */
export async function writeExitStatus(
  db: Db,
  kit: SqlKit,
  rows: ReadonlyArray<{ jobid: string; funcid: number }>,
  status: 0 | 1,
  keepFor: number,
): Promise<void> {
  if (keepFor <= 0 || rows.length === 0) return;
  if (kit.flavor.name === 'qudo') {
    // Qudo's `set_job_status` record: copied from the job row, so it runs before the row leaves
    // `job`. Qudo never expires job_status rows; neither does ilkkun.
    await db.query(
      `INSERT INTO ${kit.statusTable} (\`func_id\`, \`arg\`, \`uniqkey\`, \`status\`, \`job_start_time\`, \`job_end_time\`)
       SELECT ${kit.func}, COALESCE(\`arg\`, ''), \`uniqkey\`, ?, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()
       FROM \`job\` WHERE ${kit.id} IN (${placeholders(rows.length)})`,
      [status === 0 ? 'completed' : 'failed', ...rows.map((r) => r.jobid)],
    );
    return;
  }
  await db.query(
    `INSERT INTO \`exitstatus\` (\`jobid\`, \`funcid\`, \`status\`, \`completion_time\`, \`delete_after\`)
     VALUES ${rows.map(() => '(?, ?, ?, UNIX_TIMESTAMP(), UNIX_TIMESTAMP() + ?)').join(', ')}
     ON DUPLICATE KEY UPDATE \`status\` = VALUES(\`status\`), \`completion_time\` = VALUES(\`completion_time\`),
       \`delete_after\` = VALUES(\`delete_after\`)`,
    rows.flatMap((r) => [r.jobid, r.funcid, status, keepFor]),
  );
  // Pruning locks expired exitstatus rows of finished jobs, which no worker needs.
  if (Math.random() < 0.1) {
    await db.query('DELETE FROM `exitstatus` WHERE `delete_after` < UNIX_TIMESTAMP() LIMIT 1000');
  }
}
