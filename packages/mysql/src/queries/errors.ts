import type { RowDataPacket } from 'mysql2/promise';
import type { Db } from '../db.js';
import type { ErrorInfo } from '../row-mapping.js';
import { placeholders } from '../sql.js';

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
 * Attempts live in TheSchwartz's `error` table: one row per failed attempt, which Perl's
 * `$job->failures` counts too, so both languages agree on a job's history. (Rows older than 7
 * days may be pruned by Perl workers, as TheSchwartz always did.) The newest message is read
 * only for jobs whose last failure ilkkun did not record itself.
 */
export async function errorInfo(
  db: Db,
  jobids: readonly string[],
  withMessage: (jobid: string, failures: number) => boolean = () => false,
): Promise<Map<string, ErrorInfo>> {
  const out = new Map<string, ErrorInfo>(jobids.map((id) => [id, { failures: 0 }]));
  if (jobids.length === 0) return out;
  const counts = await db.query<CountRow[]>(
    `SELECT \`jobid\`, COUNT(*) AS n FROM \`error\` WHERE \`jobid\` IN (${placeholders(jobids.length)}) GROUP BY \`jobid\``,
    jobids,
  );
  for (const row of counts) out.set(String(row.jobid), { failures: Number(row.n) });
  const needMessage = [...out].filter(([id, info]) => info.failures > 0 && withMessage(id, info.failures));
  if (needMessage.length > 0) {
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
  return out;
}

/** TheSchwartz's error.message is VARCHAR(255): keep the first 255 characters (code points). */
export function errorMessage(message: string): string {
  const chars = Array.from(message);
  return chars.length <= 255 ? message : chars.slice(0, 255).join('');
}

/** One failed attempt, as a Perl worker's `$job->failed` would record it (server clock). */
export async function insertError(db: Db, jobid: string, funcid: number, message: string): Promise<void> {
  await db.query(
    'INSERT INTO `error` (`error_time`, `jobid`, `message`, `funcid`) VALUES (UNIX_TIMESTAMP(), ?, ?, ?)',
    [jobid, errorMessage(message), funcid],
  );
}

/** Deleted with the job's attempt counter when a dead job is retried (retryDead resets attempts). */
export async function deleteErrors(db: Db, jobids: readonly string[]): Promise<void> {
  if (jobids.length === 0) return;
  await db.query(`DELETE FROM \`error\` WHERE \`jobid\` IN (${placeholders(jobids.length)})`, jobids);
}

/**
 * TheSchwartz prunes error rows older than a week lazily ($T_ERRORS_MAX_AGE); so does ilkkun,
 * with the same odds, so a deployment without Perl workers does not grow the table forever.
 */
export async function maybePruneErrors(db: Db): Promise<void> {
  if (Math.random() >= 0.1) return;
  await db.query('DELETE FROM `error` WHERE `error_time` < UNIX_TIMESTAMP() - 604800 LIMIT 1000');
}
