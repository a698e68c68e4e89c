import type { RowDataPacket } from 'mysql2/promise';
import type { Db } from '../db.js';
import type { ErrorInfo } from '../row-mapping.js';
import { JOB_BY_ID, placeholders, type SqlKit } from '../sql.js';

interface CountRow extends RowDataPacket {
  jobid: string;
  n: number;
}

interface LatestRow extends RowDataPacket {
  jobid: string;
  message: string;
  error_time: number;
}

/**
 * Failed attempts so far, per job. TheSchwartz: one `error` row per failed attempt, which Perl's
 * `$job->failures` counts too, so both languages agree on a job's history. (Rows older than 7
 * days may be pruned by Perl workers, as TheSchwartz always did.) The newest message is read
 * only for jobs whose last failure ilkkun did not record itself. Qudo: the job's own `retry_cnt`
 * (Qudo's `exception_log` has no job id, so it cannot tell a Perl failure's message per job).
 */
export async function errorInfo(
  db: Db,
  kit: SqlKit,
  jobids: readonly string[],
  withMessage: (jobid: string, failures: number) => boolean = () => false,
  /** counts already read with the rows (`failuresColumn`): only messages are looked up */
  known?: ReadonlyMap<string, number>,
): Promise<Map<string, ErrorInfo>> {
  const out = new Map<string, ErrorInfo>(jobids.map((id) => [id, { failures: known?.get(id) ?? 0 }]));
  if (jobids.length === 0) return out;
  if (known) {
    if (kit.flavor.attempts === 'error-rows') await addMessages(db, out, withMessage);
    return out;
  }
  if (kit.flavor.attempts === 'retry-count') {
    const rows = await db.query<CountRow[]>(
      `SELECT ${kit.id} AS \`jobid\`, \`retry_cnt\` AS n FROM \`job\` WHERE ${kit.id} IN (${placeholders(jobids.length)})`,
      jobids,
    );
    for (const row of rows) out.set(String(row.jobid), { failures: Number(row.n) });
    return out;
  }
  const counts = await db.query<CountRow[]>(
    `SELECT \`jobid\`, COUNT(*) AS n FROM \`error\` WHERE \`jobid\` IN (${placeholders(jobids.length)}) GROUP BY \`jobid\``,
    jobids,
  );
  for (const row of counts) out.set(String(row.jobid), { failures: Number(row.n) });
  await addMessages(db, out, withMessage);
  return out;
}

/** The newest `error` message of the jobs `withMessage` picks (TheSchwartz flavour). */
async function addMessages(
  db: Db,
  out: Map<string, ErrorInfo>,
  withMessage: (jobid: string, failures: number) => boolean,
): Promise<void> {
  const needMessage = [...out].filter(([id, info]) => info.failures > 0 && withMessage(id, info.failures));
  if (needMessage.length === 0) return;
  const ids = needMessage.map(([id]) => id);
  const latest = await db.query<LatestRow[]>(
    `SELECT e.\`jobid\`, e.\`message\`, e.\`error_time\` FROM \`error\` e
     WHERE e.\`jobid\` IN (${placeholders(ids.length)})
     ORDER BY e.\`error_time\` DESC`,
    ids,
  );
  for (const row of latest) {
    const info = out.get(String(row.jobid));
    if (info && info.message === undefined) {
      info.message = row.message;
      info.at = Number(row.error_time);
    }
  }
}

/**
 * Failed attempts so far as a column of a `job` read (`AS ilkkun_failures`), so a claim learns
 * them in the statement that locks its rows instead of one round trip later. The subquery reads
 * `error` without locking it.
 */
export const failuresColumn = (kit: SqlKit): string =>
  kit.flavor.attempts === 'retry-count'
    ? '`retry_cnt` AS `ilkkun_failures`'
    : `(SELECT COUNT(*) FROM \`error\` e WHERE e.\`jobid\` = \`job\`.${kit.id}) AS \`ilkkun_failures\``;

/** TheSchwartz's error.message is VARCHAR(255): keep the first 255 characters (code points). */
export function errorMessage(message: string): string {
  const chars = Array.from(message);
  return chars.length <= 255 ? message : chars.slice(0, 255).join('');
}

/** Qudo's `exception_log.message` is a MEDIUMBLOB; keep well below its 16 MiB. */
const QUDO_MESSAGE_MAX = 65_535;

/**
 * One failed attempt, as a Perl worker would record it (server clock). TheSchwartz
 * (`$job->failed`): an `error` row. Qudo (`job_failed` + the retry): `retry_cnt + 1` on the job
 * and an `exception_log` row with the job's func_id, uniqkey and arg. The job row must still be
 * in `job`. Without `funcid` the error row takes it from the job row.
 */
export async function insertError(
  db: Db,
  kit: SqlKit,
  jobid: string,
  funcid: number | undefined,
  message: string,
): Promise<void> {
  if (kit.flavor.attempts === 'retry-count') {
    await db.query(`UPDATE ${JOB_BY_ID} SET \`retry_cnt\` = \`retry_cnt\` + 1 WHERE ${kit.id} = ?`, [jobid]);
    await db.query(
      `INSERT INTO ${kit.errorTable} (\`func_id\`, \`exception_time\`, \`message\`, \`uniqkey\`, \`arg\`)
       SELECT ${kit.func}, UNIX_TIMESTAMP(), ?, \`uniqkey\`, \`arg\` FROM \`job\` WHERE ${kit.id} = ?`,
      [Array.from(message).slice(0, QUDO_MESSAGE_MAX).join(''), jobid],
    );
    return;
  }
  if (funcid === undefined) {
    await db.query(
      `INSERT INTO \`error\` (\`error_time\`, \`jobid\`, \`message\`, \`funcid\`)
       SELECT UNIX_TIMESTAMP(), \`jobid\`, ?, \`funcid\` FROM \`job\` WHERE \`jobid\` = ?`,
      [errorMessage(message), jobid],
    );
    return;
  }
  await db.query(
    'INSERT INTO `error` (`error_time`, `jobid`, `message`, `funcid`) VALUES (UNIX_TIMESTAMP(), ?, ?, ?)',
    [jobid, errorMessage(message), funcid],
  );
}

/**
 * Deleted with the job's attempt counter when a dead job is retried (retryDead resets attempts).
 * Qudo: nothing to delete (the job comes back with `retry_cnt` 0; `exception_log` is Qudo's
 * history for its own `retry` tooling and stays).
 */
export async function deleteErrors(db: Db, kit: SqlKit, jobids: readonly string[]): Promise<void> {
  if (kit.flavor.attempts === 'retry-count') return;
  if (jobids.length === 0) return;
  await db.query(`DELETE FROM \`error\` WHERE \`jobid\` IN (${placeholders(jobids.length)})`, jobids);
}

/**
 * TheSchwartz prunes error rows older than a week lazily ($T_ERRORS_MAX_AGE); so does ilkkun,
 * with the same odds, so a deployment without Perl workers does not grow the table forever.
 */
export async function maybePruneErrors(db: Db, kit: SqlKit): Promise<void> {
  // Qudo never prunes exception_log (its tooling lists and re-enqueues from it): neither does ilkkun
  if (kit.flavor.attempts === 'retry-count') return;
  if (Math.random() >= 0.1) return;
  await db.query('DELETE FROM `error` WHERE `error_time` < UNIX_TIMESTAMP() - 604800 LIMIT 1000');
}
