import { IlkkunError } from '@ilkkun/core';

/**
 * Errors the runner puts on a job or uses as an abort reason. They describe what happened to a
 * *job* (recorded as its `lastError`), not a misuse of the API. Each has a stable `code` like
 * every ilkkun error, and a stable `name`: only the name survives the trip through a child
 * process and into the store, so the runner recognises them by name. Misuse (bad settings,
 * unknown queue) throws core's `ConfigError`; a lost lease is core's `LeaseLostError`.
 */

/** The job ran longer than its queue's `timeoutMs`; the handler's signal is aborted with this. */
export class JobTimeoutError extends IlkkunError {
  readonly timeoutMs: number;
  constructor(jobId: string, timeoutMs: number) {
    super('JOB_TIMEOUT', `job ${jobId} timed out after ${timeoutMs} ms`, { retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

/** The child process running the job exited (crash, `process.exit`, OOM kill) before answering. */
export class WorkerCrashedError extends IlkkunError {
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  constructor(
    pid: number | undefined,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    detail?: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    super(
      'WORKER_CRASHED',
      `worker process ${pid ?? '?'} ${how} while running the job${detail ? `: ${detail}` : ''}`,
      {
        retryable: true,
      },
    );
    this.pid = pid;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/**
 * A `process`-mode child died while starting: killed by a signal (the OOM killer, an operator) or
 * exited before it reported its handlers loaded. A crash, not a configuration error: the pool
 * replaces the child (with backoff when children keep dying). A handler module that throws while
 * loading is reported by the child itself and stays a `ConfigError`.
 */
export class WorkerStartError extends IlkkunError {
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  constructor(
    pid: number | undefined,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    detail?: string,
  ) {
    const how = signal
      ? `was killed by ${signal}`
      : exitCode === null
        ? 'could not be started'
        : `exited with code ${exitCode}`;
    super(
      'WORKER_START_FAILED',
      `worker process ${pid ?? '?'} ${how} while starting, before its handlers were loaded${detail ? `: ${detail}` : ''}`,
      { retryable: true },
    );
    this.pid = pid;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** Abort reason when the runner stops and hands the job back unfinished (not counted as an attempt). */
export class JobReleasedError extends IlkkunError {
  constructor(jobId: string) {
    super('JOB_RELEASED', `job ${jobId} released: the runner is shutting down`, { retryable: true });
  }
}

/**
 * Throw this from a handler when retrying cannot help (bad input, a deleted record): the job goes
 * straight to `dead`. Recognised by `name`, so it works from child processes and duplicate installs.
 */
export class UnrecoverableError extends IlkkunError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNRECOVERABLE', message, options);
  }
}

/** An error-like value made safe to send between processes and to store. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as { name?: unknown; message?: unknown; stack?: unknown };
    const out: SerializedError = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : safeString(err),
    };
    if (typeof e.stack === 'string') out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: safeString(err) };
}

/** Rebuild an `Error` from its serialized form, keeping the original name and stack. */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message);
  err.name = s.name;
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
