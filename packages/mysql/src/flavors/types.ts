/**
 * A table layout the backend can run on. Every statement takes its table and column names from
 * one of the two fixed objects below (`THESCHWARTZ`, `QUDO`), chosen by the `flavor` URL option
 * from a closed list: no identifier ever comes from user input. ilkkun's own columns (`ilkkun_*`)
 * and `run_after` / `grabbed_until` / `priority` / `arg` / `uniqkey` have the same names in both.
 */
export interface Flavor {
  readonly name: 'theschwartz' | 'qudo';
  /** queue table: `funcmap (funcid, funcname)` / `func (id, name)` */
  readonly funcTable: string;
  readonly funcTableId: string;
  readonly funcTableName: string;
  /** `job` columns that differ */
  readonly jobId: string;
  readonly jobFunc: string;
  readonly jobInsertTime: string;
  /** TheSchwartz's `coalesce`; Qudo has none */
  readonly jobCoalesce: string | null;
  /** the upstream `job` columns verify expects */
  readonly jobColumns: readonly string[];
  /** what the upstream `priority` column holds (TheSchwartz SMALLINT UNSIGNED NULL, Qudo INT UNSIGNED NOT NULL) */
  readonly priorityMax: number;
  readonly priorityNullable: boolean;
  /** the type ilkkun_dead.priority gets */
  readonly deadPriorityType: string;
  /**
   * How failed attempts are counted:
   * - `error-rows`: one `error` row per failure, keyed by jobid (TheSchwartz's `$job->failures`);
   * - `retry-count`: `job.retry_cnt` (Qudo's counter), each failure also logged in `exception_log`.
   */
  readonly attempts: 'error-rows' | 'retry-count';
  /** the failure log table */
  readonly errorTable: string;
  /** the completion record table (`exitstatus` / `job_status`) */
  readonly statusTable: string;
  /** upstream tables in creation order; DDL uses `{collation}` */
  readonly tables: ReadonlyArray<readonly [name: string, ddl: string]>;
  /** tables that must be InnoDB (row locks); others may use any engine */
  readonly innodbTables: readonly string[];
  /** tables whose columns verify looks at for collation warnings: [table, column, what] */
  readonly collationChecks: ReadonlyArray<readonly [table: string, column: string, what: string]>;
}

/** Backtick-quote a fixed identifier (they never contain a backtick). */
export const q = (identifier: string): string => `\`${identifier}\``;
