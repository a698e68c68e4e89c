import type { LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import type { RunnerMode } from './config.js';
import type { WorkerInfo } from './events.js';

export type Outcome = { ok: true; result: unknown } | { ok: false; error: Error };

/** What the handler's `ctx` reaches back into the runner for. */
export interface ExecHooks {
  extend(ms: number): Promise<Date>;
  log(message: string, data?: Record<string, unknown>): void;
}

/** One handler invocation under way. */
export interface Execution {
  /** the process running it */
  readonly pid: number;
  /** settles when the handler's code has stopped: it returned or threw, or its process is gone */
  readonly outcome: Promise<Outcome>;
  /** ask the handler to stop (its signal aborts with `reason`); `process` mode kills it if it ignores that */
  abort(reason: Error): void;
}

/**
 * Runs handlers for one slot group. The pool owns everything about the job itself — the lease,
 * its heartbeat, the timeout, ack/requeue — in both modes; an executor only runs code.
 */
export interface Executor {
  readonly mode: RunnerMode;
  /** get ready (load modules, spawn `minWorkers`); rejects on a handler that cannot load */
  start(): Promise<void>;
  /** start the handler; inline mode answers synchronously (no promise per job), process mode once a worker took it */
  run(job: LeasedJob<unknown>, record: LeasedJobRecord, hooks: ExecHooks): Execution | Promise<Execution>;
  workers(): WorkerInfo[];
  /** stop every worker; anything still running is killed (its job was already released) */
  close(): Promise<void>;
}
