import { type LeaseHandle, LeaseLostError } from '@ilkkun/core';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Database, Db } from '../db.js';
import { parseJobId } from '../row-mapping.js';
import { DELETE_JOB_BY_ID, FENCE, JOB_BY_ID, placeholders, type SqlKit } from '../sql.js';
import { writeExitStatus } from './dead.js';

interface OwnedRow extends RowDataPacket {
  jobid: string;
  funcid: number;
}

interface IdRow extends RowDataPacket {
  jobid: string;
}

/** A fast-path DELETE did not match every job: roll back and sort out which ones are lost. */
class Mismatch extends Error {}

/**
 * What an ack answers for: one lease on one job. Two handles of the same job (a stale copy whose
 * lease ran out and the live one from the pop after it) are two leases, and at most one of them
 * can be the job's current lease, so outcomes are kept per (job id, token), never per job id.
 */
const leaseKey = (jobid: string, token: string): string => `${jobid}\u0000${token}`;

/**
 * Ack many jobs in one transaction (one commit, one fsync). Jobs from one pop share a lease
 * token, so usually one fenced `DELETE … WHERE jobid IN (…) AND token = ?` per token does it; only
 * when one deletes fewer rows than asked (a lease was lost) does a second transaction lock the
 * rows first to tell which leases are still held. With `keepExitStatusFor` an exitstatus row is
 * written per job.
 *
 * Locks (see docs/backends/mysql.md, "Locks and stalled workers"): every statement reaches rows
 * by primary key and is fenced by this caller's token, so the only rows left locked across a
 * round trip are rows whose lease this caller holds; a row whose fence does not match is
 * released at once under READ COMMITTED. No other worker needs those rows (a claim skips them, a
 * stale holder's write would fail its fence anyway), and a silent client's transaction is ended by
 * the server after `lockWaitTimeoutSeconds` (MariaDB's idle_transaction_timeout).
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
  // leases a run deleted before a COMMIT whose answer was lost: that commit may have gone through
  const maybeCommitted = new Set<string>();
  let lastRun: ReadonlySet<string> = new Set();
  const remember = (ctx: { afterUncertainCommit: boolean }, deleted: Set<string>): Set<string> => {
    if (ctx.afterUncertainCommit) for (const key of lastRun) maybeCommitted.add(key);
    lastRun = deleted;
    return deleted;
  };
  if (groups.size > 0) {
    try {
      acked = await db.transaction('ack', async (tx, ctx) => {
        if (keepExitStatusFor > 0)
          return remember(ctx, await deleteLocked(tx, kit, groups, keepExitStatusFor));
        for (const [token, ids] of groups) {
          const res = await tx.query<ResultSetHeader>(
            `${DELETE_JOB_BY_ID} WHERE ${kit.id} IN (${placeholders(ids.length)}) AND ${FENCE}`,
            [...ids, token],
          );
          if (res.affectedRows !== ids.length) throw new Mismatch();
        }
        const all = new Set<string>();
        for (const [token, ids] of groups) for (const id of ids) all.add(leaseKey(id, token));
        return remember(ctx, all);
      });
    } catch (err) {
      if (!(err instanceof Mismatch)) throw err;
      acked = await db.transaction('ack', async (tx, ctx) =>
        remember(ctx, await deleteLocked(tx, kit, groups, keepExitStatusFor)),
      );
    }
    // A lease an uncertain commit deleted whose job is gone now was most likely deleted by that
    // commit: report it acked rather than lost. Only leases that run itself matched count, so a
    // stale handle of a job whose live lease was acked in the same call stays lost.
    const unsure = [...maybeCommitted].filter((key) => !acked.has(key));
    if (unsure.length > 0) {
      const ids = [...new Set(unsure.map((key) => key.split('\u0000')[0]!))];
      const still = await db.query<IdRow[]>(
        `SELECT ${kit.id} AS \`jobid\` FROM \`job\` WHERE ${kit.id} IN (${placeholders(ids.length)})`,
        ids,
      );
      const present = new Set(still.map((r) => String(r.jobid)));
      for (const key of unsure) if (!present.has(key.split('\u0000')[0]!)) acked.add(key);
    }
  }
  return handles.map((h) => {
    const id = parseJobId(h.id);
    return id !== undefined && acked.has(leaseKey(id, h.lease.token)) ? null : new LeaseLostError(h.id);
  });
}

/** Lock the rows these leases still hold, delete them, record exit statuses. Returns the leases acked. */
async function deleteLocked(
  tx: Db,
  kit: SqlKit,
  groups: ReadonlyMap<string, string[]>,
  keepExitStatusFor: number,
): Promise<Set<string>> {
  const owned: Array<OwnedRow & { token: string }> = [];
  for (const [token, ids] of groups) {
    const rows = await tx.query<OwnedRow[]>(
      `SELECT ${kit.id} AS \`jobid\`, ${kit.func} AS \`funcid\` FROM ${JOB_BY_ID}
       WHERE ${kit.id} IN (${placeholders(ids.length)}) AND ${FENCE} FOR UPDATE`,
      [...ids, token],
    );
    for (const row of rows) owned.push(Object.assign(row, { token }));
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
      `${DELETE_JOB_BY_ID} WHERE ${kit.id} IN (${placeholders(owned.length)})`,
      owned.map((r) => r.jobid),
    );
  }
  return new Set(owned.map((r) => leaseKey(String(r.jobid), r.token)));
}
