import { sleep } from '@ilkkun/core';
import { isBusy, translateSqliteError } from './sqlite-errors.js';

/**
 * Longest single synchronous lock wait (SQLite's own busy handler) once the backend is open.
 * better-sqlite3 is synchronous, so SQLite's busy wait blocks the whole event loop: a 5 s
 * `busy_timeout` could freeze every handler and lease heartbeat of an inline worker for 5 s.
 * Instead each try waits at most this long inside SQLite, and the rest of `busyTimeoutMs` is
 * spent in short async sleeps between tries, which leave the event loop free.
 */
export const BUSY_SLICE_MS = 20;

/**
 * Run `fn` (one statement or one transaction), retrying while the file is locked by another
 * connection, for up to `totalMs` in all. Retrying is safe: a statement or transaction that
 * fails with SQLITE_BUSY has written nothing. After that, or on any other error, the error is
 * translated (BUSY → retryable `BackendUnavailableError`).
 */
export async function withBusyRetry<T>(
  action: string,
  file: string,
  totalMs: number,
  fn: () => T,
): Promise<T> {
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const left = deadline - Date.now();
      if (!isBusy(err) || left <= 0) throw translateSqliteError(err, action, file);
      // 1–4 ms with jitter, so processes that collided do not retry in lockstep.
      await sleep(Math.min(left, 1 + Math.random() * 3));
    }
  }
}
