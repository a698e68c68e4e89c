import { randomBytes } from 'node:crypto';
import { type JobError, type LeasedJobRecord, leaseExpiredError } from '@ilkkun/core';
import type { ResultSetHeader } from 'mysql2/promise';
import { ArgDecodeError, decodeArg } from '../arg-codec.js';
import type { ServerClock } from '../clock.js';
import type { Database, Db } from '../db.js';
import { compareRows, encodeError, type JobRow, needsErrorMessage, toRecord } from '../row-mapping.js';
import { POP_INDEX } from '../schema.js';
import { ceilSeconds, NOW_MS, placeholders, READY, type SqlKit } from '../sql.js';
import { moveToDead, writeExitStatus } from './dead.js';
import { errorInfo, insertError } from './errors.js';

export interface ClaimDeps {
  db: Database;
  kit: SqlKit;
  clock: ServerClock;
  defaultMaxAttempts: number;
  keepExitStatusFor: number;
}

export interface ClaimTarget {
  queue: string;
  funcid: number;
}

export interface ClaimResult {
  jobs: LeasedJobRecord[];
  /** jobs found exhausted (lease expired on their last attempt) or unreadable, moved to dead instead */
  buried: number;
}

interface ReadyRow extends JobRow {
  now_ms: string;
}

/**
 * The ready jobs of one queue in pop order. `FORCE INDEX` pins the plan to the index that matches
 * the ORDER BY column for column, so the server reads the first rows of the index instead of
 * sorting the queue (the difference between flat and collapsing pop latency at 1M jobs).
 */
const selectReady = (kit: SqlKit, lock: boolean) =>
  `SELECT ${kit.jobColumns}, ${NOW_MS} AS now_ms FROM \`job\` FORCE INDEX (\`${POP_INDEX}\`)
   WHERE ${kit.func} = ? AND ${READY}
   ORDER BY ${kit.popOrder} LIMIT ?${lock ? ' FOR UPDATE SKIP LOCKED' : ''}`;

const newToken = () => randomBytes(12).toString('base64url');

/**
 * Claim with `SELECT … FOR UPDATE SKIP LOCKED` (MariaDB ≥ 10.6, MySQL ≥ 8): one transaction locks
 * the first `max` ready rows no other claimer holds, leases them with one UPDATE and commits once.
 * Concurrent claimers never wait for each other and never get the same row; a Perl worker's
 * optimistic `UPDATE … WHERE grabbed_until = <old>` re-reads the committed row and loses cleanly.
 */
export async function claimSkipLocked(
  deps: ClaimDeps,
  targets: readonly ClaimTarget[],
  max: number,
  leaseMs: number,
): Promise<ClaimResult> {
  return deps.db.transaction('pop', async (tx) => {
    const { rows, nowMs } = await readCandidates(deps, tx, targets, max, true);
    if (rows.length === 0) return { jobs: [], buried: 0 };
    const token = newToken();
    const leaseEnd = nowMs + leaseMs;
    const settled = await settle(deps, tx, rows, nowMs, queueNames(targets));
    const ids = settled.keep.map((k) => k.row.jobid);
    if (ids.length > 0) {
      await tx.query(
        `UPDATE \`job\` SET \`grabbed_until\` = ${ceilSeconds('?')}, \`ilkkun_lease_ms\` = ?, \`ilkkun_lease_token\` = ?
         WHERE ${deps.kit.id} IN (${placeholders(ids.length)})`,
        [leaseEnd, leaseEnd, token, ...ids],
      );
    }
    return { jobs: settled.keep.map((k) => leased(deps, k, token, leaseEnd)), buried: settled.buried };
  });
}

/**
 * TheSchwartz's own claim, for servers without SKIP LOCKED: read candidates without locks, then
 * take each with an UPDATE that succeeds only if the row is still exactly as read (old
 * `grabbed_until`, lease and token) and still ready. Losing a race costs one statement; no locks
 * are held across statements, so claimers cannot deadlock. Unlike TheSchwartz, candidates are
 * not shuffled: priority order is kept.
 */
export async function claimOptimistic(
  deps: ClaimDeps,
  targets: readonly ClaimTarget[],
  max: number,
  leaseMs: number,
): Promise<ClaimResult> {
  // a few spare candidates, since some may be taken by others between read and update
  const { rows, nowMs } = await readCandidates(deps, deps.db, targets, max * 2 + 2, false);
  const token = newToken();
  const leaseEnd = nowMs + leaseMs;
  const won: ReadyRow[] = [];
  for (const row of rows) {
    if (won.length >= max) break;
    const result = await deps.db.query<ResultSetHeader>(
      `UPDATE \`job\` SET \`grabbed_until\` = ${ceilSeconds('?')}, \`ilkkun_lease_ms\` = ?, \`ilkkun_lease_token\` = ?
       WHERE ${deps.kit.id} = ? AND \`grabbed_until\` = ? AND \`ilkkun_lease_ms\` <=> ? AND \`ilkkun_lease_token\` <=> ?
         AND ${READY}`,
      [leaseEnd, leaseEnd, token, row.jobid, row.grabbed_until, row.ilkkun_lease_ms, row.ilkkun_lease_token],
      { action: 'pop' },
    );
    if (result.affectedRows === 1) won.push(row);
  }
  if (won.length === 0) return { jobs: [], buried: 0 };
  // The rows are ours now (fenced by the token); record reclaims and burials in one transaction.
  const settled = await deps.db.transaction('pop', (tx) => settle(deps, tx, won, nowMs, queueNames(targets)));
  return { jobs: settled.keep.map((k) => leased(deps, k, token, leaseEnd)), buried: settled.buried };
}

async function readCandidates(
  deps: ClaimDeps,
  db: Db,
  targets: readonly ClaimTarget[],
  limit: number,
  lock: boolean,
): Promise<{ rows: ReadyRow[]; nowMs: number }> {
  let rows: ReadyRow[] = [];
  let nowMs = 0;
  // One statement per queue: with equality on funcid the index yields rows already in pop order;
  // `funcid IN (…)` would make the server sort every ready job of every queue.
  for (const target of targets) {
    const sentAt = Date.now();
    const found = await db.query<ReadyRow[]>(selectReady(deps.kit, lock), [target.funcid, limit]);
    const now = found[0] ? Number(found[0].now_ms) : Number.NaN;
    if (found[0]) deps.clock.observe(now, sentAt, Date.now());
    if (now > nowMs) nowMs = now;
    rows.push(...found);
  }
  if (targets.length > 1) rows = rows.sort(compareRows).slice(0, limit);
  return { rows, nowMs };
}

interface Kept {
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
 */
async function settle(
  deps: ClaimDeps,
  tx: Db,
  rows: readonly ReadyRow[],
  nowMs: number,
  queues: ReadonlyMap<number, string>,
): Promise<{ keep: Kept[]; buried: number }> {
  const byId = new Map(rows.map((r) => [r.jobid, r]));
  const errors = await errorInfo(
    tx,
    deps.kit,
    rows.map((r) => r.jobid),
    (id, failures) => needsErrorMessage(byId.get(id)?.ilkkun_last_error ?? null, failures),
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
      await tx.query(`UPDATE \`job\` SET \`ilkkun_last_error\` = ? WHERE ${deps.kit.id} = ?`, [
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

function leased(deps: ClaimDeps, k: Kept, token: string, leaseEnd: number): LeasedJobRecord {
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

const queueNames = (targets: readonly ClaimTarget[]) => new Map(targets.map((t) => [t.funcid, t.queue]));

/** The row's `grabbed_until` is the one an ilkkun lease wrote (no Perl grab or release since). */
function ownLease(row: JobRow): boolean {
  if (row.ilkkun_lease_ms === null) return false;
  return Math.ceil(Number(row.ilkkun_lease_ms) / 1000) === Number(row.grabbed_until);
}
