import type { Flavor } from './types.js';

/**
 * Qudo's tables (Perl `Qudo` 0.02xx, `doc/schema-mysql.sql`), column for column: `func`, `job`
 * with `run_after`, `retry_cnt` and `priority`, `exception_log`, `job_status`. Added here, as for
 * TheSchwartz: `IF NOT EXISTS`, backtick quoting, `ENGINE=InnoDB` (Qudo's own test helper adds it
 * too) and an explicit utf8mb4 charset with a binary collation (`{collation}`).
 */
const TABLES: ReadonlyArray<readonly [string, string]> = [
  [
    'func',
    `CREATE TABLE IF NOT EXISTS \`func\` (
  \`id\`    INT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`name\`  VARCHAR(255) NOT NULL,
  UNIQUE (\`name\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'job',
    `CREATE TABLE IF NOT EXISTS \`job\` (
  \`id\`             BIGINT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`func_id\`        INTEGER UNSIGNED NOT NULL,
  \`arg\`            MEDIUMBLOB,
  \`uniqkey\`        VARCHAR(255) NULL,
  \`enqueue_time\`   INTEGER UNSIGNED,
  \`grabbed_until\`  INTEGER UNSIGNED NOT NULL,
  \`run_after\`      INTEGER UNSIGNED NOT NULL DEFAULT 0,
  \`retry_cnt\`      INTEGER UNSIGNED NOT NULL DEFAULT 0,
  \`priority\`       INTEGER UNSIGNED NOT NULL DEFAULT 0,
  UNIQUE (\`func_id\`, \`uniqkey\`),
  KEY \`priority\` (\`priority\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'exception_log',
    `CREATE TABLE IF NOT EXISTS \`exception_log\` (
  \`id\`              BIGINT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`func_id\`         INTEGER UNSIGNED NOT NULL DEFAULT 0,
  \`exception_time\`  INTEGER UNSIGNED NOT NULL,
  \`message\`         MEDIUMBLOB NOT NULL,
  \`uniqkey\`         VARCHAR(255) NULL,
  \`arg\`             MEDIUMBLOB,
  \`retried\`         TINYINT(1) NOT NULL DEFAULT 0,
  INDEX (\`func_id\`),
  INDEX (\`exception_time\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'job_status',
    `CREATE TABLE IF NOT EXISTS \`job_status\` (
  \`id\`              BIGINT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`func_id\`         INTEGER UNSIGNED NOT NULL DEFAULT 0,
  \`arg\`             MEDIUMBLOB NOT NULL,
  \`uniqkey\`         VARCHAR(255) NULL,
  \`status\`          VARCHAR(10),
  \`job_start_time\`  INTEGER UNSIGNED NOT NULL,
  \`job_end_time\`    INTEGER UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
];

export const QUDO: Flavor = {
  name: 'qudo',
  funcTable: 'func',
  funcTableId: 'id',
  funcTableName: 'name',
  jobId: 'id',
  jobFunc: 'func_id',
  jobInsertTime: 'enqueue_time',
  jobCoalesce: null,
  jobColumns: [
    'id',
    'func_id',
    'arg',
    'uniqkey',
    'enqueue_time',
    'grabbed_until',
    'run_after',
    'retry_cnt',
    'priority',
  ],
  priorityMax: 4_294_967_295,
  priorityNullable: false,
  deadPriorityType: 'INT UNSIGNED',
  attempts: 'retry-count',
  errorTable: 'exception_log',
  statusTable: 'job_status',
  tables: TABLES,
  innodbTables: ['func', 'job', 'exception_log', 'job_status'],
  collationChecks: [
    ['func', 'name', 'queue names'],
    ['job', 'uniqkey', 'unique keys'],
  ],
};
