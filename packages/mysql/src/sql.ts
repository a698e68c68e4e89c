import { type Flavor, q } from './flavors/index.js';

/**
 * SQL fragments shared by the statements. Fixed text only: no caller input is ever spliced
 * into SQL; every value travels as a bound `?` parameter.
 *
 * Times. TheSchwartz stores whole unix seconds (`run_after`, `grabbed_until`) and compares them
 * with the server's `UNIX_TIMESTAMP()`. ilkkun needs milliseconds (a 400 ms lease, runAt order
 * within a second), so it keeps exact ms in its own columns and writes the TheSchwartz columns
 * rounded *up* to the second, so a Perl worker never sees a job early or a lease end early.
 * Every comparison uses the server clock: `NOW_MS` below.
 */

/**
 * The server's clock in ms, evaluated once per statement. `UNIX_TIMESTAMP()` and `NOW(6)` both
 * read the statement's start time, and the microsecond part does not depend on the session's
 * time zone, so no `SET time_zone` is needed on pooled connections (unlike `UNIX_TIMESTAMP(NOW(3))`,
 * which converts through the session zone and is ambiguous in a DST fold).
 */
export const NOW_MS = '(UNIX_TIMESTAMP() * 1000 + MICROSECOND(NOW(6)) DIV 1000)';

/** Whole seconds, rounded up, of a ms expression: `CEIL(x / 1000)` without DECIMAL arithmetic. */
export const ceilSeconds = (msExpr: string): string => `((${msExpr} + 999) DIV 1000)`;

/**
 * `run_after` for a runAt given as a delay from the server's now (`?` = delay in ms, bound twice:
 * once for the direction, once for the time). A job already due gets the second rounded *down*,
 * so a Perl worker sees it at once; a job in the future gets it rounded *up*, so a Perl worker
 * never runs it early. Either way `run_after` stays within the second of `ilkkun_run_at_ms`,
 * which is how `ilkkun_due_ms` recognises that Perl has not rewritten it since.
 */
export const RUN_AFTER_FROM_DELAY = `IF(? > 0, ${ceilSeconds(`GREATEST(${NOW_MS} + ?, 0)`)}, GREATEST(${NOW_MS} + ?, 0) DIV 1000)`;

/** `ilkkun_run_at_ms` for a delay from the server's now (`?` = delay in ms). */
export const RUN_AT_FROM_DELAY = `GREATEST(${NOW_MS} + ?, 0)`;

/** `run_after` is within the second of `ilkkun_run_at_ms` (written together by ilkkun, not rewritten by Perl since). */
export const RUN_AFTER_MATCHES = `\`run_after\` BETWEEN \`ilkkun_run_at_ms\` DIV 1000 AND ${ceilSeconds('`ilkkun_run_at_ms`')}`;

/**
 * When the job's current lease ends, in ms. An ilkkun lease wrote both `ilkkun_lease_ms` and
 * `grabbed_until = ceil(ilkkun_lease_ms)`; when `grabbed_until` no longer matches, a Perl worker
 * grabbed (or released) the job since, and its whole-second `grabbed_until` is what counts.
 * 0 = free.
 */
export const LEASE_END_MS = `(CASE WHEN \`ilkkun_lease_ms\` IS NOT NULL AND ${ceilSeconds('`ilkkun_lease_ms`')} = \`grabbed_until\` THEN \`ilkkun_lease_ms\` ELSE \`grabbed_until\` * 1000 END)`;

/** The job's current lease was handed out by ilkkun (and not taken over by Perl since). */
export const OWN_LEASE = `(\`ilkkun_lease_token\` IS NOT NULL AND \`ilkkun_lease_ms\` IS NOT NULL AND ${ceilSeconds('`ilkkun_lease_ms`')} = \`grabbed_until\`)`;

/**
 * Fencing: the row is leased under this token and the lease has not ended. Used by every write
 * a lease holder makes (ack, requeue, extend), in the same statement as the write, so there is
 * no window between the check and the change. Parameters: token.
 */
export const FENCE = `\`ilkkun_lease_token\` = ? AND ${OWN_LEASE} AND \`ilkkun_lease_ms\` > ${NOW_MS}`;

/** A job a pop may take now: due, and not leased. */
export const READY = `\`ilkkun_due_ms\` <= ${NOW_MS} AND ${LEASE_END_MS} <= ${NOW_MS}`;

/**
 * The flavour-dependent pieces of SQL, built once per flavour from its fixed names. Rows always
 * come back under TheSchwartz's names (`jobid`, `funcid`, `insert_time`, `coalesce`), so the row
 * mapping is the same for both flavours.
 */
export interface SqlKit {
  readonly flavor: Flavor;
  /** quoted `job` columns that differ between flavours */
  readonly id: string;
  readonly func: string;
  readonly insertTime: string;
  /** quoted names of the queue table and its columns */
  readonly funcTable: string;
  readonly funcTableId: string;
  readonly funcTableName: string;
  readonly errorTable: string;
  readonly statusTable: string;
  /** every column a job read selects (generated ones included), aliased to TheSchwartz's names */
  readonly jobColumns: string;
  /** pop order: higher priority first, then earlier runAt, then insertion order; matches the pop index */
  readonly popOrder: string;
  readonly popIndexColumns: readonly string[];
  /** columns of `ilkkun_dead` (TheSchwartz's names in both flavours) and what fills them from `job` */
  readonly deadColumns: string;
  readonly deadFromJob: string;
  /** `job` columns a dead job goes back into, and what fills them from `ilkkun_dead` (minus run_after, grabbed_until) */
  readonly jobFromDeadColumns: string;
  readonly jobFromDeadValues: string;
}

const kits = new Map<string, SqlKit>();

export function sqlKit(flavor: Flavor): SqlKit {
  const cached = kits.get(flavor.name);
  if (cached) return cached;
  const id = q(flavor.jobId);
  const func = q(flavor.jobFunc);
  const insertTime = q(flavor.jobInsertTime);
  const coalesce = flavor.jobCoalesce === null ? null : q(flavor.jobCoalesce);
  const ilkkun = [
    'ilkkun_priority',
    'ilkkun_run_at_ms',
    'ilkkun_max_attempts',
    'ilkkun_backoff',
    'ilkkun_lease_token',
    'ilkkun_lease_ms',
    'ilkkun_last_error',
    'ilkkun_prio_key',
    'ilkkun_due_ms',
  ].map(q);
  const jobColumns = [
    `${id} AS \`jobid\``,
    `${func} AS \`funcid\``,
    '`arg`',
    '`uniqkey`',
    `${insertTime} AS \`insert_time\``,
    '`run_after`',
    '`grabbed_until`',
    '`priority`',
    coalesce === null ? 'NULL AS `coalesce`' : coalesce,
    ...ilkkun,
  ].join(', ');
  const deadExtra = [
    'ilkkun_priority',
    'ilkkun_run_at_ms',
    'ilkkun_max_attempts',
    'ilkkun_backoff',
    'ilkkun_last_error',
  ].map(q);
  const deadColumns = [
    '`jobid`',
    '`funcid`',
    '`arg`',
    '`uniqkey`',
    '`insert_time`',
    '`run_after`',
    '`priority`',
    '`coalesce`',
    ...deadExtra,
  ].join(', ');
  const deadFromJob = [
    id,
    func,
    '`arg`',
    '`uniqkey`',
    insertTime,
    '`run_after`',
    '`priority`',
    coalesce ?? 'NULL',
    ...deadExtra,
  ].join(', ');
  const back = [
    'arg',
    'uniqkey',
    'priority',
    'ilkkun_priority',
    'ilkkun_max_attempts',
    'ilkkun_backoff',
    'ilkkun_last_error',
  ].map(q);
  const kit: SqlKit = {
    flavor,
    id,
    func,
    insertTime,
    funcTable: q(flavor.funcTable),
    funcTableId: q(flavor.funcTableId),
    funcTableName: q(flavor.funcTableName),
    errorTable: q(flavor.errorTable),
    statusTable: q(flavor.statusTable),
    jobColumns,
    popOrder: `\`ilkkun_prio_key\`, \`ilkkun_due_ms\`, ${id}`,
    popIndexColumns: [flavor.jobFunc, 'ilkkun_prio_key', 'ilkkun_due_ms', flavor.jobId],
    deadColumns,
    deadFromJob,
    jobFromDeadColumns: [id, func, insertTime, ...(coalesce ? [coalesce] : []), ...back].join(', '),
    jobFromDeadValues: [
      '`jobid`',
      '`funcid`',
      '`insert_time`',
      ...(coalesce ? ['`coalesce`'] : []),
      ...back,
    ].join(', '),
  };
  kits.set(flavor.name, kit);
  return kit;
}

/**
 * The `job` table reached by primary key only, for every write and locking read that targets jobs
 * by id: `UPDATE ${JOB_BY_ID} SET …`, `${DELETE_JOB_BY_ID} WHERE …`. Left to itself the optimizer
 * scans a small table whole instead (seen on MariaDB 10.11 for `DELETE … WHERE jobid IN (4 ids)`
 * on a 9-row table), and a locking scan locks, or waits for, every row it passes: an ack then
 * waited for rows another worker was claiming. By primary key, at READ COMMITTED, a statement
 * locks only the rows it changes; a row that fails the rest of the WHERE is released at once.
 */
export const JOB_BY_ID = '`job` FORCE INDEX (PRIMARY)';
/** Single-table DELETE takes no index hint; the multi-table form does and deletes the same rows. */
export const DELETE_JOB_BY_ID = `DELETE \`job\` FROM ${JOB_BY_ID}`;

/** `?, ?, ?` for a list of n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
