import type { Flavor } from './types.js';

/**
 * TheSchwartz's tables, column for column as TheSchwartz 1.12–1.18 ships them in `doc/schema.sql`
 * (`shared/research/seed-anchors/schema-theschwartz-mysql.sql`). Added here, and nowhere else:
 * `IF NOT EXISTS`, backtick quoting (`coalesce` is a function name), `ENGINE=InnoDB` (row locks and
 * `SKIP LOCKED` need it) and an explicit utf8mb4 charset with a binary collation (`{collation}`),
 * so queue names and unique keys compare exactly, as they do in Perl and in ilkkun.
 */
const TABLES: ReadonlyArray<readonly [string, string]> = [
  [
    'funcmap',
    `CREATE TABLE IF NOT EXISTS \`funcmap\` (
  \`funcid\`    INT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`funcname\`  VARCHAR(255) NOT NULL,
  UNIQUE (\`funcname\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'job',
    `CREATE TABLE IF NOT EXISTS \`job\` (
  \`jobid\`          BIGINT UNSIGNED PRIMARY KEY NOT NULL AUTO_INCREMENT,
  \`funcid\`         INT UNSIGNED NOT NULL,
  \`arg\`            MEDIUMBLOB,
  \`uniqkey\`        VARCHAR(255) NULL,
  \`insert_time\`    INTEGER UNSIGNED,
  \`run_after\`      INTEGER UNSIGNED NOT NULL,
  \`grabbed_until\`  INTEGER UNSIGNED NOT NULL,
  \`priority\`       SMALLINT UNSIGNED,
  \`coalesce\`       VARCHAR(255),
  INDEX (\`funcid\`, \`run_after\`),
  UNIQUE (\`funcid\`, \`uniqkey\`),
  INDEX (\`funcid\`, \`coalesce\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'note',
    `CREATE TABLE IF NOT EXISTS \`note\` (
  \`jobid\`    BIGINT UNSIGNED NOT NULL,
  \`notekey\`  VARCHAR(255),
  PRIMARY KEY (\`jobid\`, \`notekey\`),
  \`value\`    MEDIUMBLOB
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'error',
    `CREATE TABLE IF NOT EXISTS \`error\` (
  \`error_time\`  INTEGER UNSIGNED NOT NULL,
  \`jobid\`       BIGINT UNSIGNED NOT NULL,
  \`message\`     VARCHAR(255) NOT NULL,
  \`funcid\`      INT UNSIGNED NOT NULL DEFAULT 0,
  INDEX (\`funcid\`, \`error_time\`),
  INDEX (\`error_time\`),
  INDEX (\`jobid\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
  [
    'exitstatus',
    `CREATE TABLE IF NOT EXISTS \`exitstatus\` (
  \`jobid\`            BIGINT UNSIGNED PRIMARY KEY NOT NULL,
  \`funcid\`           INT UNSIGNED NOT NULL DEFAULT 0,
  \`status\`           SMALLINT UNSIGNED,
  \`completion_time\`  INTEGER UNSIGNED,
  \`delete_after\`     INTEGER UNSIGNED,
  INDEX (\`funcid\`),
  INDEX (\`delete_after\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`,
  ],
];

export const THESCHWARTZ: Flavor = {
  name: 'theschwartz',
  funcTable: 'funcmap',
  funcTableId: 'funcid',
  funcTableName: 'funcname',
  jobId: 'jobid',
  jobFunc: 'funcid',
  jobInsertTime: 'insert_time',
  jobCoalesce: 'coalesce',
  jobColumns: [
    'jobid',
    'funcid',
    'arg',
    'uniqkey',
    'insert_time',
    'run_after',
    'grabbed_until',
    'priority',
    'coalesce',
  ],
  priorityMax: 65_535,
  priorityNullable: true,
  deadPriorityType: 'SMALLINT UNSIGNED',
  attempts: 'error-rows',
  errorTable: 'error',
  statusTable: 'exitstatus',
  tables: TABLES,
  innodbTables: ['funcmap', 'job', 'error', 'exitstatus'],
  collationChecks: [
    ['funcmap', 'funcname', 'queue names'],
    ['job', 'uniqkey', 'unique keys'],
  ],
};
