import { forEachOption, optionReaders } from '@ilkkun/core';

const read = optionReaders('sqlite');

/**
 * SQLite's `synchronous` setting in WAL mode:
 * - `full` (default): the WAL is fsynced on every commit, so an acknowledged push survives power loss.
 * - `extra`: same as `full` in WAL mode; accepted for people who ask for it by name.
 * - `normal`: fsync only at checkpoints. Much faster, and the file never corrupts, but the last
 *   commits before a power cut (or OS crash) can vanish, i.e. acknowledged pushes can be lost.
 *   A process crash alone loses nothing. Opt in only if you accept that.
 */
export type SynchronousMode = 'full' | 'extra' | 'normal';

export interface SqliteBackendOptions {
  /**
   * How long a write waits for another connection's lock before failing with a retryable
   * `BackendUnavailableError` (SQLite `busy_timeout`). Default 5000. better-sqlite3 is
   * synchronous, so this wait blocks the event loop: keep it in seconds, not minutes.
   */
  busyTimeoutMs?: number;
  /** default `full`; see `SynchronousMode` */
  synchronous?: SynchronousMode;
  /**
   * Ceiling of the idle poll interval of a waiting `pop` (default 10). Each poll is one
   * `PRAGMA data_version` (about 1.5 µs); a full query runs only when another process committed.
   * It bounds how long a job pushed by another OS process waits to be noticed.
   */
  pollMaxMs?: number;
}

export interface ResolvedSqliteOptions {
  busyTimeoutMs: number;
  synchronous: SynchronousMode;
  pollMaxMs: number;
}

export const DEFAULT_OPTIONS: ResolvedSqliteOptions = {
  busyTimeoutMs: 5000,
  synchronous: 'full',
  pollMaxMs: 10,
};

const KNOWN = ['busyTimeoutMs', 'synchronous', 'pollMaxMs'] as const;
type Known = (typeof KNOWN)[number];
const isKnown = (key: string): key is Known => (KNOWN as readonly string[]).includes(key);

/**
 * Merge options from the URL query (strings) and from code (typed values); code wins.
 * Anything unknown is a `ConfigError`, so a typo such as `?busytimeout=100` never passes silently.
 */
export function resolveOptions(
  fromUrl: Readonly<Record<string, string>> = {},
  fromCode: Readonly<Record<string, unknown>> = {},
): ResolvedSqliteOptions {
  const out: ResolvedSqliteOptions = { ...DEFAULT_OPTIONS };
  forEachOption(fromUrl, fromCode, (source, key, value) => {
    if (!isKnown(key)) throw read.unknown(source, key, KNOWN);
    switch (key) {
      case 'busyTimeoutMs':
        out.busyTimeoutMs = read.integer(source, key, value, 0, 2_147_483_647);
        break;
      case 'pollMaxMs':
        out.pollMaxMs = read.integer(source, key, value, 1, 60_000);
        break;
      case 'synchronous':
        out.synchronous = read.oneOf(source, key, value, ['full', 'extra', 'normal'] as const);
        break;
    }
  });
  return out;
}
