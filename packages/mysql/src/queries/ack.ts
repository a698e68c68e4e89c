import { type LeaseHandle, LeaseLostError } from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Database, Db } from '../db.js';
import { parseJobId } from '../row-mapping.js';
import { FENCE, placeholders, type SqlKit } from '../sql.js';
import { writeExitStatus } from './dead.js';

interface OwnedRow extends RowDataPacket {
  jobid: string;
  funcid: number;
}

/** A fast-path DELETE did not match every job: roll back and sort out which ones are lost. */
class Mismatch extends Error {}

/**
 * Ack many jobs in one transaction (one commit, one fsync). Jobs from one pop share a lease
 * token, so usually a single fenced `DELETE … WHERE jobid IN (…) AND token = ?` does it; only when
 * it deletes fewer rows than asked (a lease was lost) does a second transaction lock the rows
 * first to tell which ones. With `keepExitStatusFor` an exitstatus row is written per job.
 */
export async function ackJobs(
  db: Database,
  kit: SqlKit,
  handles: readonly LeaseHandle[],
  keepExitStatusFor: number,
): Promise<Array<LeaseLostError | null>> {
  const groups = new Map<string, string[]>();
  for (const h of handles) {
    const id = parseJobId(h.id);
    if (id === undefined) continue;
    const ids = groups.get(h.lease.token) ?? [];
    if (!ids.includes(id)) ids.push(id);
    groups.set(h.lease.token, ids);
  }
  let acked = new Set<string>();
  let uncertain = false;
  if (groups.size > 0) {
    try {
      acked = await db.transaction('ack', async (tx, ctx) => {
        uncertain = ctx.afterUncertainCommit;
        if (keepExitStatusFor > 0) return deleteLocked(tx, kit, groups, keepExitStatusFor);
        for (const [token, ids] of groups) {
          const res = await tx.query<ResultSetHeader>(
            `DELETE FROM \`job\` WHERE ${kit.id} IN (${placeholders(ids.length)}) AND ${FENCE}`,
            [...ids, token],
          );
          if (res.affectedRows !== ids.length) throw new Mismatch();
        }
        return new Set([...groups.values()].flat());
      });
    } catch (err) {
      if (!(err instanceof Mismatch)) throw err;
      acked = await db.transaction('ack', (tx, ctx) => {
        uncertain ||= ctx.afterUncertainCommit;
        return deleteLocked(tx, kit, groups, keepExitStatusFor);
      });
    }
  }
  const lost = handles.filter((h) => !acked.has(parseJobId(h.id) ?? ''));
  if (uncertain && lost.length > 0) {
    // An earlier run's COMMIT may have gone through before the connection broke. A job that is
    // gone now was most likely deleted by that commit: report it acked rather than lost.
    const ids = lost.map((h) => parseJobId(h.id)).filter((id): id is string => id !== undefined);
    const still = ids.length
      ? await db.query<OwnedRow[]>(
          `SELECT ${kit.id} AS \`jobid\` FROM \`job\` WHERE ${kit.id} IN (${placeholders(ids.length)})`,
          ids,
        )
      : [];
    const present = new Set(still.map((r) => String(r.jobid)));
    for (const id of ids) if (!present.has(id)) acked.add(id);
  }
  return handles.map((h) => (acked.has(parseJobId(h.id) ?? '') ? null : new LeaseLostError(h.id)));
}

/** Lock the rows this lease still holds, delete them, record exit statuses. */
async function deleteLocked(
  tx: Db,
  kit: SqlKit,
  groups: ReadonlyMap<string, string[]>,
  keepExitStatusFor: number,
): Promise<Set<string>> {
  const owned: OwnedRow[] = [];
  for (const [token, ids] of groups) {
    owned.push(
      ...(await tx.query<OwnedRow[]>(
        `SELECT ${kit.id} AS \`jobid\`, ${kit.func} AS \`funcid\` FROM \`job\` WHERE ${kit.id} IN (${placeholders(ids.length)}) AND ${FENCE} FOR UPDATE`,
        [...ids, token],
      )),
    );
  }
  if (owned.length > 0) {
    await writeExitStatus(
      tx,
      kit,
      owned.map((r) => ({ jobid: String(r.jobid), funcid: Number(r.funcid) })),
      0,
      keepExitStatusFor,
    );
    await tx.query(
      `DELETE FROM \`job\` WHERE ${kit.id} IN (${placeholders(owned.length)})`,
      owned.map((r) => r.jobid),
    );
  }
  return new Set(owned.map((r) => String(r.jobid)));
}
