import type { RowDataPacket } from 'mysql2/promise';
import type { Db } from './db.js';
import { type Flavor, q } from './flavors/index.js';
import { RUN_AFTER_MATCHES, sqlKit } from './sql.js';

/**
 * ilkkun's own columns on `job`. TheSchwartz names its columns in every statement (Data::ObjectDriver
 * never uses `SELECT *` or positional INSERTs), so extra nullable columns are invisible to Perl;
 * rows a Perl client inserts simply have them NULL. Each exists because the contract needs a value
 * TheSchwartz has no column for.
 */
export const JOB_EXTRA_COLUMNS: ReadonlyArray<[name: string, definition: string]> = [
  // exact int32 priority; `priority` (SMALLINT UNSIGNED) keeps what Perl can read of it
  ['ilkkun_priority', 'INT NULL'],
  // exact runAt in ms (server clock); `run_after` holds it rounded up to the second
  ['ilkkun_run_at_ms', 'BIGINT NULL'],
  // attempts allowed; NULL on jobs from Perl clients (the backend option `defaultMaxAttempts` applies)
  ['ilkkun_max_attempts', 'INT UNSIGNED NULL'],
  // BackoffOptions as JSON
  ['ilkkun_backoff', 'VARCHAR(1024) NULL'],
  // lease fencing: the current lease's token and its exact end; `grabbed_until` holds the end rounded up
  ['ilkkun_lease_token', 'CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL'],
  ['ilkkun_lease_ms', 'BIGINT NULL'],
  // JobError as JSON (message, name, stack, attempt, at); `error.message` keeps 255 characters of it
  ['ilkkun_last_error', 'MEDIUMTEXT NULL'],
  // Pop order keys, generated so they cover Perl-inserted rows too and can be indexed. Priority is
  // negated so the whole ORDER BY runs ascending: one plain index serves it on every server version
  // (descending indexes need MariaDB 10.8 / MySQL 8), and a mismatch between ORDER BY and index
  // direction is exactly what made a SKIP LOCKED loop collapse to 62 jobs/s (perf-measured.md).
  [
    'ilkkun_prio_key',
    'BIGINT GENERATED ALWAYS AS (-CAST(IFNULL(`ilkkun_priority`, IFNULL(`priority`, 0)) AS SIGNED)) VIRTUAL',
  ],
  // the exact runAt while `run_after` still says what ilkkun wrote; after a Perl retry or decline
  // rewrote `run_after`, that value wins
  [
    'ilkkun_due_ms',
    `BIGINT GENERATED ALWAYS AS (CASE WHEN \`ilkkun_run_at_ms\` IS NOT NULL AND ${RUN_AFTER_MATCHES} THEN \`ilkkun_run_at_ms\` ELSE CAST(\`run_after\` AS SIGNED) * 1000 END) VIRTUAL`,
  ],
];

/** Serves the claim's `ORDER BY` exactly (equality on funcid, then the order keys, then jobid). */
export const POP_INDEX = 'ilkkun_pop';

/**
 * Dead jobs. TheSchwartz has no dead state (a permanent failure deletes the row), and a dead job
 * left in `job` would still be grabbed by Perl workers and still hold its unique key; so dead jobs
 * move here, with the same column names, and `retryDead` moves them back under the same jobid.
 */
const deadTable = (flavor: Flavor) => `CREATE TABLE IF NOT EXISTS \`ilkkun_dead\` (
  \`jobid\`               BIGINT UNSIGNED PRIMARY KEY NOT NULL,
  \`funcid\`              INT UNSIGNED NOT NULL,
  \`arg\`                 MEDIUMBLOB,
  \`uniqkey\`             VARCHAR(255) NULL,
  \`insert_time\`         INTEGER UNSIGNED,
  \`run_after\`           INTEGER UNSIGNED NOT NULL,
  \`priority\`            ${flavor.deadPriorityType},
  \`coalesce\`            VARCHAR(255),
  \`ilkkun_priority\`     INT NULL,
  \`ilkkun_run_at_ms\`    BIGINT NULL,
  \`ilkkun_max_attempts\` INT UNSIGNED NULL,
  \`ilkkun_backoff\`      VARCHAR(1024) NULL,
  \`ilkkun_last_error\`   MEDIUMTEXT NULL,
  \`attempts\`            INT UNSIGNED NOT NULL,
  \`died_at_ms\`          BIGINT NOT NULL,
  INDEX \`ilkkun_dead_queue\` (\`funcid\`, \`jobid\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}`;

const requiredTables = (flavor: Flavor) => [...flavor.tables.map(([name]) => name), 'ilkkun_dead'];

export interface SchemaReport {
  /** true when the backend can run on this database as it is */
  ok: boolean;
  /** what stops it (missing tables, columns, the pop index, a non-InnoDB engine) */
  problems: string[];
  /** what works but differs from what ilkkun creates (case-insensitive collations, charsets) */
  warnings: string[];
  /** the `job` table exists (a TheSchwartz deployment or an earlier ilkkun migration) */
  hasJobTable: boolean;
}

interface ColumnRow extends RowDataPacket {
  table_name: string;
  column_name: string;
  data_type: string;
  collation_name: string | null;
  character_set_name: string | null;
}

interface TableRow extends RowDataPacket {
  table_name: string;
  engine: string | null;
}

interface IndexRow extends RowDataPacket {
  index_name: string;
  column_name: string;
  seq: number;
  non_unique: number;
}

/** What the current database holds, compared with what the backend needs. Reads only. */
export async function verifySchema(db: Db, flavor: Flavor): Promise<SchemaReport> {
  const REQUIRED_TABLES = requiredTables(flavor);
  const kit = sqlKit(flavor);
  const problems: string[] = [];
  const warnings: string[] = [];
  const tables = await db.query<TableRow[]>(
    `SELECT TABLE_NAME AS table_name, ENGINE AS engine FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${REQUIRED_TABLES.map(() => '?').join(', ')})`,
    REQUIRED_TABLES,
  );
  const present = new Map(tables.map((t) => [t.table_name.toLowerCase(), t.engine]));
  for (const name of REQUIRED_TABLES) {
    if (!present.has(name)) problems.push(`table \`${name}\` is missing`);
    else if (
      (flavor.innodbTables.includes(name) || name === 'ilkkun_dead') &&
      (present.get(name) ?? '').toLowerCase() !== 'innodb'
    ) {
      problems.push(`table \`${name}\` uses engine ${present.get(name)}; row locks need InnoDB`);
    }
  }
  const columns = await db.query<ColumnRow[]>(
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, DATA_TYPE AS data_type,
            COLLATION_NAME AS collation_name, CHARACTER_SET_NAME AS character_set_name
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?)`,
    ['job', flavor.funcTable, flavor.errorTable],
  );
  const col = (table: string, name: string) =>
    columns.find((c) => c.table_name.toLowerCase() === table && c.column_name.toLowerCase() === name);
  if (present.has('job')) {
    const upstream = flavor.name === 'qudo' ? 'Qudo' : 'TheSchwartz';
    for (const name of flavor.jobColumns) {
      if (!col('job', name)) problems.push(`column job.${name} (${upstream}) is missing`);
    }
    for (const [name] of JOB_EXTRA_COLUMNS) {
      if (!col('job', name)) problems.push(`column job.${name} is missing`);
    }
    const indexes = await db.query<IndexRow[]>(
      `SELECT INDEX_NAME AS index_name, COLUMN_NAME AS column_name, SEQ_IN_INDEX AS seq, NON_UNIQUE AS non_unique
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'job'
       ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    );
    const popColumns = indexes.filter((i) => i.index_name === POP_INDEX).map((i) => i.column_name);
    const POP_INDEX_COLUMNS = kit.popIndexColumns;
    if (popColumns.join(',') !== POP_INDEX_COLUMNS.join(',')) {
      problems.push(
        popColumns.length === 0
          ? `index job.${POP_INDEX} is missing`
          : `index job.${POP_INDEX} is (${popColumns.join(', ')}); expected (${POP_INDEX_COLUMNS.join(', ')})`,
      );
    }
    const byName = new Map<string, IndexRow[]>();
    for (const i of indexes) byName.set(i.index_name, [...(byName.get(i.index_name) ?? []), i]);
    const uniqueOnKey = [...byName.values()].some(
      (parts) =>
        parts.length === 2 &&
        Number(parts[0]!.non_unique) === 0 &&
        parts.map((p) => p.column_name).join(',') === `${flavor.jobFunc},uniqkey`,
    );
    if (!uniqueOnKey)
      problems.push(
        `job has no UNIQUE (${flavor.jobFunc}, uniqkey) index: unique keys would not be enforced`,
      );
  }
  for (const [table, name, what] of flavor.collationChecks) {
    const c = col(table, name);
    if (c?.collation_name && !/_bin$/i.test(c.collation_name)) {
      warnings.push(
        `${table}.${name} uses collation ${c.collation_name}: ${what} that differ only in case${/nopad|0900/i.test(c.collation_name) ? '' : ' or trailing spaces'} are treated as equal`,
      );
    }
    if (c?.character_set_name && !/^utf8mb4$/i.test(c.character_set_name)) {
      warnings.push(
        `${table}.${name} uses character set ${c.character_set_name}: only utf8mb4 stores every string`,
      );
    }
  }
  const message = col(flavor.errorTable, 'message');
  if (
    flavor.attempts === 'error-rows' &&
    message?.character_set_name &&
    !/^utf8mb4$/i.test(message.character_set_name)
  ) {
    warnings.push(
      `error.message uses character set ${message.character_set_name}: error texts are stored as their first 255 characters with non-representable characters replaced`,
    );
  }
  return { ok: problems.length === 0, problems, warnings, hasJobTable: present.has('job') };
}

export interface MigrateResult {
  /** the DDL statements that ran (empty when the schema was already complete) */
  applied: string[];
  report: SchemaReport;
}

/**
 * Create what is missing: the flavour's tables (TheSchwartz's or Qudo's), ilkkun's columns on
 * `job`, the pop index and `ilkkun_dead`. Never drops, renames or retypes anything and never touches rows, so it is safe
 * on a live TheSchwartz database (adding the index to a large `job` table takes a while: InnoDB
 * builds it online, Perl workers keep running). Serialised across processes with a named lock.
 */
export async function migrate(db: Db, collation: string, flavor: Flavor): Promise<MigrateResult> {
  const lockName = 'ilkkun_migrate';
  const applied: string[] = [];
  const [lock] = await db.query<RowDataPacket[]>('SELECT GET_LOCK(CONCAT(?, DATABASE()), 60) AS got', [
    lockName,
  ]);
  if (Number(lock?.['got']) !== 1) throw new Error('could not get the ilkkun_migrate lock within 60 s');
  try {
    const before = await verifySchema(db, flavor);
    const missing = new Set(before.problems);
    const run = async (ddl: string) => {
      const sql = ddl.replaceAll('{collation}', collation);
      await db.query(sql);
      applied.push(sql);
    };
    for (const [name, ddl] of flavor.tables) {
      if ([...missing].some((p) => p === `table \`${name}\` is missing`)) await run(ddl);
    }
    if (before.problems.includes('table `ilkkun_dead` is missing')) await run(deadTable(flavor));
    const current = await db.query<ColumnRow[]>(
      `SELECT COLUMN_NAME AS column_name FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'job'`,
    );
    const have = new Set(current.map((c) => c.column_name.toLowerCase()));
    const missingColumns = JOB_EXTRA_COLUMNS.filter(([name]) => !have.has(name));
    // Three statements, not one: MariaDB adds plain nullable columns and virtual columns
    // instantly (metadata only), but only when each kind comes alone: mixed with each other or
    // with ADD INDEX the server falls back to copying the table under a write lock.
    const plain = missingColumns.filter(([, definition]) => !/GENERATED/i.test(definition));
    const generated = missingColumns.filter(([, definition]) => /GENERATED/i.test(definition));
    for (const group of [plain, generated]) {
      if (group.length > 0) {
        await run(
          `ALTER TABLE \`job\` ${group.map(([name, definition]) => `ADD COLUMN \`${name}\` ${definition}`).join(', ')}`,
        );
      }
    }
    const after = await db.query<IndexRow[]>(
      `SELECT INDEX_NAME AS index_name FROM information_schema.STATISTICS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'job' AND INDEX_NAME = ?`,
      [POP_INDEX],
    );
    if (after.length === 0) {
      // LOCK=NONE: built online while Perl workers keep inserting and grabbing; a server that
      // cannot do that refuses the statement instead of locking a live queue.
      await run(
        `ALTER TABLE \`job\` ADD INDEX \`${POP_INDEX}\` (${sqlKit(flavor).popIndexColumns.map(q).join(', ')}), LOCK=NONE`,
      );
    }
    return { applied, report: await verifySchema(db, flavor) };
  } finally {
    await db.query('SELECT RELEASE_LOCK(CONCAT(?, DATABASE()))', [lockName]);
  }
}
