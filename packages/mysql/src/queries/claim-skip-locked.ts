import type { RowDataPacket } from 'mysql2/promise';
import type { Db } from '../db.js';
import { compareRows } from '../row-mapping.js';
import { POP_INDEX } from '../schema.js';
import { ceilSeconds, JOB_BY_ID, NOW_MS, placeholders, READY, type SqlKit } from '../sql.js';
import {
  type ClaimDeps,
  type ClaimResult,
  type ClaimTarget,
  type Kept,
  leased,
  newToken,
  queueNames,
  type ReadyRow,
  settle,
} from './claim.js';
import { failuresColumn } from './errors.js';

/*
 * Why a claim takes two steps. A locking read through a secondary index keeps a lock on every row
 * it *scanned*, matching or not, until its transaction ends: measured on MariaDB 10.11 at READ
 * COMMITTED, which releases the rows that fail the WHERE only when they were reached by primary
 * key. The rows at the head of the pop index are the jobs other workers hold leases on (they stay
 * in `job` until acked), so the one-statement claim (`SELECT … FORCE INDEX (pop) … FOR UPDATE SKIP
 * LOCKED`, then settle, UPDATE, COMMIT) held those rows across three client round trips, and a
 * claimer that stalled in between (SIGSTOP, GC pause, half-open connection) made every other
 * worker's ack, extend and requeue of those jobs wait, for innodb_lock_wait_timeout (50 s) or
 * forever. Now:
 * 1. the pop index is scanned by a statement of its own (autocommit), so its locks end with it;
 * 2. the claim transaction locks the candidates by primary key only, so from its first statement
 *    to COMMIT it holds exactly the rows it leases. No other worker holds a lease on those, and
 *    another claim skips them.
 */

interface CandidateRow extends RowDataPacket {
  jobid: string;
  ilkkun_prio_key: string;
  ilkkun_due_ms: string;
}

/**
 * Step 1: the first `limit` ready rows of one queue that no claim is leasing at this instant, in
 * pop order, ids and order keys only. `FORCE INDEX` pins the plan to the index that matches the
 * ORDER BY column for column, so the server reads the first rows of the index instead of sorting
 * the queue. Run in autocommit: its locks end with the statement, and no client round trip falls
 * inside it (the answer is a few ids). Shared locks, so concurrent step 1s do not skip each
 * other's rows (a row one of them merely looked at is still free); they skip only rows held
 * exclusively, i.e. rows a claim transaction is leasing. So a claim moves past a higher row only
 * when someone else is taking it, and priority order holds across claimers.
 */
const selectCandidates = (kit: SqlKit, flavor: ClaimDeps['serverFlavor']) =>
  `SELECT ${kit.id} AS \`jobid\`, \`ilkkun_prio_key\`, \`ilkkun_due_ms\` FROM \`job\` FORCE INDEX (\`${POP_INDEX}\`)
   WHERE ${kit.func} = ? AND ${READY}
   ORDER BY ${kit.popOrder} LIMIT ? ${flavor === 'mariadb' ? 'LOCK IN SHARE MODE' : 'FOR SHARE'} SKIP LOCKED`;

/**
 * More candidates inside the claim transaction, when the step-1 ones ran out because others took
 * some: a plain read (no locks at all), so it also returns rows other claims are leasing right
 * now; locking skips those.
 */
const readCandidates = (kit: SqlKit) =>
  `SELECT ${kit.id} AS \`jobid\`, \`ilkkun_prio_key\`, \`ilkkun_due_ms\` FROM \`job\` FORCE INDEX (\`${POP_INDEX}\`)
   WHERE ${kit.func} = ? AND ${READY}
   ORDER BY ${kit.popOrder} LIMIT ?`;

/**
 * Step-1 candidates for `want` jobs: more than wanted, since claimers that looked at the same
 * moment share the head of the queue. Spare ones are only looked at, never locked past step 1.
 */
const spareCandidates = (want: number): number => want * 4 + 16;

/**
 * Step 2: lock those of `n` candidates that are still ready and that no other claim holds, by
 * primary key (a row that fails the WHERE is released at once at READ COMMITTED), with their
 * failed attempts so far.
 */
const lockCandidates = (kit: SqlKit, n: number) =>
  `SELECT ${kit.jobColumns}, ${NOW_MS} AS now_ms, ${failuresColumn(kit)} FROM ${JOB_BY_ID}
   WHERE ${kit.id} IN (${placeholders(n)}) AND ${READY} FOR UPDATE SKIP LOCKED`;

/**
 * Lock statements in one claim transaction. A claim that keeps looking holds the rows it has all
 * the while, which makes the others look longer in turn: past this many it commits what it has.
 */
const MAX_LOCK_STATEMENTS = 8;

/** Rounds (step 1 + one transaction each) of a claim whose candidates other claimers keep taking first. */
const MAX_ROUNDS = 4;

type Claimed = Kept & { leaseEnd: number };

/** What one claim transaction leased; `lost` counts candidates others took first. */
interface Round {
  kept: Claimed[];
  buried: number;
  lost: number;
}

/**
 * Claim with `FOR UPDATE SKIP LOCKED` (MariaDB ≥ 10.6, MySQL ≥ 8), in two steps (see above): step
 * 1 picks the first ready rows no other claim holds, exactly the rows the one-statement claim would
 * have locked; one transaction then locks those by primary key, leases them with one UPDATE and
 * commits once. Concurrent claimers never wait for each other and never get the same row: a
 * candidate another claim took in between is locked (skipped) or no longer ready. Step 1 skips
 * only rows some claim is about to lease, so priority order holds across claimers as before.
 * Every candidate lost that way was taken by someone, so a round that comes back short for that
 * reason is followed by another (a fresh step 1 skips what the others hold now). A Perl worker's
 * optimistic `UPDATE … WHERE grabbed_until = <old>` re-reads the committed row and loses cleanly.
 */
export async function claimSkipLocked(
  deps: ClaimDeps,
  targets: readonly ClaimTarget[],
  max: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const token = newToken();
  const claimed: Claimed[] = [];
  let buried = 0;
  let contended = false;
  for (let round = 0; round < MAX_ROUNDS && claimed.length < max; round++) {
    const want = max - claimed.length;
    let result: Round | undefined;
    // Claims of this process go through step 1 one at a time, each until its first lock
    // statement has answered: the next one's step 1 then skips what this one locked, instead of
    // picking the same candidates and losing them (claims in one event loop move in lockstep).
    const leave = await deps.claimGate.enter();
    try {
      // step 1 and the claim transaction on one connection, back to back (see Database.prepared)
      result = await deps.db.prepared(
        'pop',
        async (db) => {
          const candidates = await findCandidates(deps, db, targets, spareCandidates(want), true);
          if (candidates.length === 0) leave();
          return candidates.length > 0 ? candidates : undefined;
        },
        (tx, _ctx, candidates) => claimRound(deps, tx, targets, candidates, want, token, leaseMs, leave),
      );
    } catch (err) {
      // what earlier rounds committed is leased already: hand it out rather than let it sit out
      // its lease
      if (claimed.length > 0) break;
      throw err;
    } finally {
      leave();
    }
    if (!result) break;
    claimed.push(...result.kept);
    buried += result.buried;
    contended = result.lost > 0;
    if (!contended || result.kept.length + result.buried >= want) break;
  }
  claimed.sort((a, b) => compareRows(a.row, b.row));
  return {
    jobs: claimed.map((k) => leased(deps, k, token, k.leaseEnd)),
    buried,
    contended: contended && claimed.length === 0,
  };
}

/**
 * One claim transaction over step-1 candidates. When others took some of them first, it reads
 * further down the queue (a plain read) and locks on in pop order, a chunk of as many as are still
 * wanted at a time, so it never locks a row it will not lease. `lost` counts candidates others took.
 */
async function claimRound(
  deps: ClaimDeps,
  tx: Db,
  targets: readonly ClaimTarget[],
  candidates: readonly string[],
  want: number,
  token: string,
  leaseMs: number,
  /** called once the first lock statement has answered */
  locked: () => void,
): Promise<Round> {
  const rows: ReadyRow[] = [];
  const tried = new Set<string>();
  let queue = [...candidates];
  let nowMs = 0;
  for (let statements = 0; rows.length < want && statements < MAX_LOCK_STATEMENTS; statements++) {
    if (queue.length === 0) {
      if (tried.size === rows.length) break; // nothing lost: there is no more to find
      const more = await findCandidates(deps, tx, targets, tried.size + spareCandidates(want), false);
      queue = more.filter((id) => !tried.has(id));
      if (queue.length === 0) break;
    }
    const chunk = queue.splice(0, want - rows.length);
    for (const id of chunk) tried.add(id);
    const sentAt = Date.now();
    const got = await tx.query<ReadyRow[]>(lockCandidates(deps.kit, chunk.length), chunk);
    locked();
    if (!got[0]) continue;
    nowMs = Number(got[0].now_ms);
    deps.clock.observe(nowMs, sentAt, Date.now());
    rows.push(...got);
  }
  const lost = tried.size - rows.length;
  if (rows.length === 0) return { kept: [], buried: 0, lost };
  const leaseEnd = nowMs + leaseMs;
  const settled = await settle(deps, tx, rows, nowMs, queueNames(targets));
  const ids = settled.keep.map((k) => k.row.jobid);
  if (ids.length > 0) {
    await tx.query(
      `UPDATE ${JOB_BY_ID} SET \`grabbed_until\` = ${ceilSeconds('?')}, \`ilkkun_lease_ms\` = ?, \`ilkkun_lease_token\` = ?
         WHERE ${deps.kit.id} IN (${placeholders(ids.length)})`,
      [leaseEnd, leaseEnd, token, ...ids],
    );
  }
  return { kept: settled.keep.map((k) => ({ ...k, leaseEnd })), buried: settled.buried, lost };
}

/**
 * The first `limit` candidates over all target queues, in pop order: step 1 (`skipLocked`, in
 * autocommit on the pool) or a plain read inside the claim transaction.
 */
async function findCandidates(
  deps: ClaimDeps,
  db: Db,
  targets: readonly ClaimTarget[],
  limit: number,
  skipLocked: boolean,
): Promise<string[]> {
  const found: CandidateRow[] = [];
  // One statement per queue: with equality on funcid the index yields rows already in pop order;
  // `funcid IN (…)` would make the server sort every ready job of every queue.
  for (const target of targets) {
    const sql = skipLocked ? selectCandidates(deps.kit, deps.serverFlavor) : readCandidates(deps.kit);
    found.push(...(await db.query<CandidateRow[]>(sql, [target.funcid, limit])));
  }
  if (targets.length > 1) found.sort(compareRows);
  return found.slice(0, limit).map((r) => String(r.jobid));
}
