import { randomBytes } from 'node:crypto';
import { type JobError, type LeasedJobRecord, leaseExpiredError } from '@ilkkun/core';
import type { ResultSetHeader } from 'mysql2/promise';
import { ArgDecodeError, decodeArg } from '../arg-codec.js';
import type { ServerClock } from '../clock.js';
import type { Database, Db } from '../db.js';
import type { Gate } from '../gate.js';
import { compareRows, encodeError, type JobRow, needsErrorMessage, toRecord } from '../row-mapping.js';
import { POP_INDEX } from '../schema.js';
import { ceilSeconds, JOB_BY_ID, NOW_MS, READY, type SqlKit } from '../sql.js';
import { moveToDead, writeExitStatus } from './dead.js';
import { errorInfo, insertError } from './errors.js';

export interface ClaimDeps {
  db: Database;
  kit: SqlKit;
  clock: ServerClock;
  defaultMaxAttempts: number;
  keepExitStatusFor: number;
  /** which server dialect, where lock clauses differ (shared SKIP LOCKED reads) */
  serverFlavor: 'mariadb' | 'mysql';
  /** lets one claim on this database in this process at a time through from its step 1 to its first lock (see claim-skip-locked.ts) */
  claimGate: Gate;
}

export interface ClaimTarget {
  queue: string;
  funcid: number;
}

export interface ClaimResult {
  jobs: LeasedJobRecord[];
  /** jobs found exhausted (lease expired on their last attempt) or unreadable, moved to dead instead */
  buried: number;
  /** ready jobs were found, but other claimers took every one of them first: worth another look */
  contended: boolean;
}

export interface ReadyRow extends JobRow {
  now_ms: string;
  /** failed attempts so far, when the read selected `failuresColumn` */
  ilkkun_failures?: string | number;
}

/**
 * The ready jobs of one queue in pop order. `FORCE INDEX` pins the plan to the index that matches
 * the ORDER BY column for column, so the server reads the first rows of the index instead of
 * sorting the queue (the difference between flat and collapsing pop latency at 1M jobs).
 */
const selectReady = (kit: SqlKit) =>
  `SELECT ${kit.jobColumns}, ${NOW_MS} AS now_ms FROM \`job\` FORCE INDEX (\`${POP_INDEX}\`)
   WHERE ${kit.func} = ? AND ${READY}
   ORDER BY ${kit.popOrder} LIMIT ?`;

export const newToken = (): string => randomBytes(12).toString('base64url');

/**
 * TheSchwartz's own claim, for servers without SKIP LOCKED: read candidates without locks, then
 * take each with an UPDATE that succeeds only if the row is still exactly as read (old
 * `grabbed_until`, lease and token) and still ready. Losing a race costs one statement; no locks
 * are held across statements, so claimers cannot deadlock. Unlike TheSchwartz, candidates are
 * not shuffled: priority order is kept.
 *
 * Locks: each UPDATE is a statement of its own (autocommit) reaching one row by primary key, so
 * its lock ends with it; the settle transaction after it touches only rows this claim now leases
 * (fenced by its new token) and new error / exitstatus / ilkkun_dead rows of those jobs.
 */
export async function claimOptimistic(
  deps: ClaimDeps,
  targets: readonly ClaimTarget[],
  max: number,
  leaseMs: number,
): Promise<ClaimResult> {
  // a few spare candidates, since some may be taken by others between read and update
  const { rows, nowMs } = await readCandidates(deps, targets, max * 2 + 2);
  const token = newToken();
  const leaseEnd = nowMs + leaseMs;
  const won: ReadyRow[] = [];
  for (const row of rows) {
    if (won.length >= max) break;
    const result = await deps.db.query<ResultSetHeader>(
      `UPDATE ${JOB_BY_ID} SET \`grabbed_until\` = ${ceilSeconds('?')}, \`ilkkun_lease_ms\` = ?, \`ilkkun_lease_token\` = ?
       WHERE ${deps.kit.id} = ? AND \`grabbed_until\` = ? AND \`ilkkun_lease_ms\` <=> ? AND \`ilkkun_lease_token\` <=> ?
         AND ${READY}`,
      [leaseEnd, leaseEnd, token, row.jobid, row.grabbed_until, row.ilkkun_lease_ms, row.ilkkun_lease_token],
      { action: 'pop' },
    );
    if (result.affectedRows === 1) won.push(row);
  }
  if (won.length === 0) return { jobs: [], buried: 0, contended: rows.length > 0 };
  // The rows are ours now (fenced by the token); record reclaims and burials in one transaction.
  const settled = await deps.db.transaction('pop', (tx) => settle(deps, tx, won, nowMs, queueNames(targets)));
  return {
    jobs: settled.keep.map((k) => leased(deps, k, token, leaseEnd)),
    buried: settled.buried,
    contended: false,
  };
}

/** The optimistic claim's candidates: a plain read, no locks. */
async function readCandidates(
  deps: ClaimDeps,
  targets: readonly ClaimTarget[],
  limit: number,
): Promise<{ rows: ReadyRow[]; nowMs: number }> {
  let rows: ReadyRow[] = [];
  let nowMs = 0;
  // One statement per queue: with equality on funcid the index yields rows already in pop order;
  // `funcid IN (…)` would make the server sort every ready job of every queue.
  for (const target of targets) {
    const sentAt = Date.now();
    const found = await deps.db.query<ReadyRow[]>(selectReady(deps.kit), [target.funcid, limit], {
      action: 'pop',
    });
    const now = found[0] ? Number(found[0].now_ms) : Number.NaN;
    if (found[0]) deps.clock.observe(now, sentAt, Date.now());
    if (now > nowMs) nowMs = now;
    rows.push(...found);
  }
  if (targets.length > 1) rows = rows.sort(compareRows).slice(0, limit);
  return { rows, nowMs };
}

export interface Kept {
  row: ReadyRow;
  queue: string;
  /** failed attempts on record before this one */
  failures: number;
  lastErrorJson: string | null;
  payload: string;
  errorsMessage?: string | undefined;
  errorsAt?: number | undefined;
}

/**
 * What each claimed row becomes. Expired leases are recovered here, by whichever pop finds them:
 * a row still carrying an ilkkun lease that ran out had its attempt counted at pop, so it gets a
 * "lease expired" error row (Perl's `failures` counts it too) and goes to dead when that was its
 * last attempt. A lease a Perl worker let run out counts nothing (TheSchwartz semantics).
 * A row whose `arg` cannot become JSON goes to dead at once: no retry could read it.
 *
 * Runs inside the claim transaction, on rows it has locked; every write reaches one of those rows
 * by primary key or inserts a new error / exitstatus / ilkkun_dead row of that job, so it adds no
 * lock another worker needs.
 */
export async function settle(
  deps: ClaimDeps,
  tx: Db,
  rows: readonly ReadyRow[],
  nowMs: number,
  queues: ReadonlyMap<number, string>,
): Promise<{ keep: Kept[]; buried: number }> {
  const byId = new Map(rows.map((r) => [r.jobid, r]));
  const known = rows.every((r) => r.ilkkun_failures !== undefined)
    ? new Map(rows.map((r) => [r.jobid, Number(r.ilkkun_failures)]))
    : undefined;
  const errors = await errorInfo(
    tx,
    deps.kit,
    rows.map((r) => r.jobid),
    (id, failures) => needsErrorMessage(byId.get(id)?.ilkkun_last_error ?? null, failures),
    known,
  );
  const keep: Kept[] = [];
  let buried = 0;
  const nowLocal = deps.clock.toLocal(nowMs).getTime();
  for (const row of rows) {
    const info = errors.get(row.jobid) ?? { failures: 0 };
    let failures = info.failures;
    let lastErrorJson = row.ilkkun_last_error;
    const maxAttempts = row.ilkkun_max_attempts ?? deps.defaultMaxAttempts;
    const bury = async (error: JobError) => {
      await insertError(tx, deps.kit, row.jobid, row.funcid, error.message);
      await writeExitStatus(
        tx,
        deps.kit,
        [{ jobid: row.jobid, funcid: row.funcid }],
        1,
        deps.keepExitStatusFor,
      );
      if (await moveToDead(tx, deps.kit, row.jobid, failures, encodeError(error))) buried++;
    };
    if (row.ilkkun_lease_token !== null && ownLease(row)) {
      failures += 1;
      const error = leaseExpiredError(failures, nowLocal);
      if (failures >= maxAttempts) {
        await bury(error);
        continue;
      }
      await insertError(tx, deps.kit, row.jobid, row.funcid, error.message);
      lastErrorJson = encodeError(error);
      await tx.query(`UPDATE ${JOB_BY_ID} SET \`ilkkun_last_error\` = ? WHERE ${deps.kit.id} = ?`, [
        lastErrorJson,
        row.jobid,
      ]);
    }
    let payload: string;
    try {
      payload = decodeArg(row.arg, row.ilkkun_max_attempts !== null).payload;
    } catch (err) {
      if (!(err instanceof ArgDecodeError)) throw err;
      failures += 1;
      await bury({
        message: err.message,
        name: 'SerializationError',
        attempt: failures,
        at: new Date(nowLocal),
      });
      continue;
    }
    keep.push({
      row,
      queue: queues.get(Number(row.funcid)) ?? '',
      failures,
      lastErrorJson,
      payload,
      errorsMessage: info.message,
      errorsAt: info.at,
    });
  }
  return { keep, buried };
}

export function leased(deps: ClaimDeps, k: Kept, token: string, leaseEnd: number): LeasedJobRecord {
  const record = toRecord(
    { ...k.row, ilkkun_last_error: k.lastErrorJson } as JobRow,
    'active',
    { failures: k.failures, message: k.errorsMessage, at: k.errorsAt },
    k.failures + 1,
    { queue: k.queue, clock: deps.clock, defaultMaxAttempts: deps.defaultMaxAttempts },
    k.payload,
  );
  return { ...record, lease: { token, expiresAt: deps.clock.toLocal(leaseEnd) } };
}

export const queueNames = (targets: readonly ClaimTarget[]) =>
  new Map(targets.map((t) => [t.funcid, t.queue]));

/** The row's `grabbed_until` is the one an ilkkun lease wrote (no Perl grab or release since). */
function ownLease(row: JobRow): boolean {
  if (row.ilkkun_lease_ms === null) return false;
  return Math.ceil(Number(row.ilkkun_lease_ms) / 1000) === Number(row.grabbed_until);
}
