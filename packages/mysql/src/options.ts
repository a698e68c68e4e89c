import { ConfigError, forEachOption, isValidQueueName, type OptionSource, optionReaders } from '@ilkkun/core';

const read = optionReaders('mysql');

/** How pop claims jobs. `auto` picks `skip-locked` when the server has it (detected at connect). */
export type ClaimStrategy = 'auto' | 'skip-locked' | 'optimistic';

/**
 * What to do about the schema when the backend opens:
 * - `create` (default): create every table when the database has no `job` table yet; refuse to
 *   alter an existing TheSchwartz `job` table (run `ilkkun migrate` for that, deliberately).
 * - `migrate`: also add ilkkun's columns and index to an existing TheSchwartz database.
 * - `verify`: change nothing; refuse to open unless the schema is complete.
 */
export type SchemaMode = 'create' | 'migrate' | 'verify';

export interface MysqlBackendOptions {
  /** most connections in the pool (default 10) */
  connectionLimit?: number;
  /** how long to wait for a new connection (default 10 000 ms) */
  connectTimeoutMs?: number;
  /** ceiling of the idle poll interval of a waiting pop, i.e. the cross-process pickup delay (default 15) */
  pollMaxMs?: number;
  claim?: ClaimStrategy;
  schema?: SchemaMode;
  /**
   * TheSchwartz `keep_exit_status_for`: seconds to keep an `exitstatus` row per finished job
   * (status 0 on ack, 1 on dead), so Perl's `$handle->exit_status` can read it. Default 0: none.
   */
  keepExitStatusFor?: number;
  /** attempts for jobs a Perl client inserted (they carry none); default 3, TheSchwartz's own is max_retries 0 → 1 */
  defaultMaxAttempts?: number;
  /**
   * Queues whose jobs are written as Perl Storable images instead of JSON text, for unchanged
   * Perl workers that expect `$job->arg` to be a hash reference. Read back automatically.
   */
  storableQueues?: readonly string[];
  /** connect with TLS (default false) */
  ssl?: boolean;
  /** table layout: TheSchwartz's tables (default) or Qudo's (`func`, `job` with `retry_cnt`, `exception_log`, `job_status`) */
  flavor?: 'theschwartz' | 'qudo';
  /**
   * Seconds a statement waits for a row lock before it fails as a retryable lock-wait timeout
   * (session `innodb_lock_wait_timeout`; the server default of 50 s is longer than the default
   * lease), and on MariaDB how long a transaction may wait idle for its client before the server
   * ends it and frees its locks (session `idle_transaction_timeout`). Default 3. Keep it well
   * below your shortest lease: it bounds how long a stalled worker can hold up the others.
   */
  lockWaitTimeoutSeconds?: number;
}

export interface ResolvedMysqlOptions {
  connectionLimit: number;
  connectTimeoutMs: number;
  pollMaxMs: number;
  claim: ClaimStrategy;
  schema: SchemaMode;
  keepExitStatusFor: number;
  defaultMaxAttempts: number;
  storableQueues: ReadonlySet<string>;
  ssl: boolean;
  flavor: 'theschwartz' | 'qudo';
  lockWaitTimeoutSeconds: number;
}

export const DEFAULT_OPTIONS: ResolvedMysqlOptions = {
  connectionLimit: 10,
  connectTimeoutMs: 10_000,
  pollMaxMs: 15,
  claim: 'auto',
  schema: 'create',
  keepExitStatusFor: 0,
  defaultMaxAttempts: 3,
  storableQueues: new Set(),
  ssl: false,
  flavor: 'theschwartz',
  lockWaitTimeoutSeconds: 3,
};

const KNOWN = [
  'connectionLimit',
  'connectTimeoutMs',
  'pollMaxMs',
  'claim',
  'schema',
  'keepExitStatusFor',
  'defaultMaxAttempts',
  'storableQueues',
  'ssl',
  'flavor',
  'lockWaitTimeoutSeconds',
] as const;
type Known = (typeof KNOWN)[number];
const isKnown = (key: string): key is Known => (KNOWN as readonly string[]).includes(key);

/**
 * Merge options from the URL query (strings) and from code (typed values); code wins.
 * Anything unknown or out of range is a `ConfigError` before a connection is made.
 */
export function resolveOptions(
  fromUrl: Readonly<Record<string, string>> = {},
  fromCode: Readonly<Record<string, unknown>> = {},
): ResolvedMysqlOptions {
  const out: ResolvedMysqlOptions = { ...DEFAULT_OPTIONS };
  forEachOption(fromUrl, fromCode, (source, key, value) => {
    if (!isKnown(key)) throw read.unknown(source, key, KNOWN);
    const int = (min: number, max: number) => read.integer(source, key, value, min, max);
    switch (key) {
      case 'connectionLimit':
        out.connectionLimit = int(1, 1000);
        break;
      case 'connectTimeoutMs':
        out.connectTimeoutMs = int(100, 600_000);
        break;
      case 'pollMaxMs':
        out.pollMaxMs = int(1, 60_000);
        break;
      case 'keepExitStatusFor':
        out.keepExitStatusFor = int(0, 4_294_967_295);
        break;
      case 'defaultMaxAttempts':
        out.defaultMaxAttempts = int(1, 1_000_000);
        break;
      case 'lockWaitTimeoutSeconds':
        out.lockWaitTimeoutSeconds = int(1, 3600);
        break;
      case 'claim':
        out.claim = read.oneOf(source, key, value, ['auto', 'skip-locked', 'optimistic'] as const);
        break;
      case 'schema':
        out.schema = read.oneOf(source, key, value, ['create', 'migrate', 'verify'] as const);
        break;
      case 'flavor': {
        const v = typeof value === 'string' ? value.toLowerCase() : value;
        out.flavor = read.oneOf(source, key, v, ['theschwartz', 'qudo'] as const);
        break;
      }
      case 'ssl':
        out.ssl = read.boolean(source, key, value);
        break;
      case 'storableQueues':
        out.storableQueues = queueList(source, value);
        break;
    }
  });
  return out;
}

function queueList(source: OptionSource, value: unknown): ReadonlySet<string> {
  const list = typeof value === 'string' ? value.split(',').filter((q) => q !== '') : value;
  if (!Array.isArray(list) || !list.every((q) => isValidQueueName(q))) {
    throw new ConfigError(
      `mysql ${source} "storableQueues" must be a list of queue names (comma-separated in a URL)`,
    );
  }
  return new Set(list as string[]);
}
