import { type ChildProcess, fork } from 'node:child_process';
import type { LeasedJobRecord } from '@ilkkun/core';
import { ConfigError } from '@ilkkun/core';
import { deserializeError, serializeError, WorkerCrashedError, WorkerStartError } from '../errors.js';
import type { WorkerInfo, WorkerState, WorkerStopReason } from '../events.js';
import type { ExecHooks, Outcome } from '../executor.js';
import type { ChildHandlerRef, ChildMessage, ParentMessage } from './protocol.js';
import { isChildMessage } from './protocol.js';

export interface WorkerProcessOptions {
  entry: string;
  group: string;
  handlers: readonly ChildHandlerRef[];
  execArgv: readonly string[];
  /** how long a child may take to load its handler modules */
  startTimeoutMs: number;
}

interface Current {
  jobId: string;
  hooks: ExecHooks;
  resolve: (outcome: Outcome) => void;
  killTimer: NodeJS.Timeout | undefined;
}

/** How long a child asked to exit (idle, recycled, shutdown) gets before SIGKILL. */
const EXIT_GRACE_MS = 2_000;

/** The runner's side of one child process: runs one job at a time. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly startedAt = new Date();
  state: WorkerState = 'starting';
  jobsDone = 0;
  rssBytes: number | undefined;
  idleSince = Date.now();
  /** set by the executor when it hands the worker a job, before the run message goes out */
  reserved = false;
  stopReason: WorkerStopReason | undefined;
  /**
   * Resolves once the child loaded its handlers. Rejects with a `ConfigError` when a handler
   * module fails to load (the child says so over IPC) or does not load within `startTimeoutMs`,
   * and with a `WorkerStartError` when the child dies while starting (a crash, replaced by the
   * executor).
   */
  readonly ready: Promise<void>;
  /** why `ready` rejected, kept for whoever handles the exit */
  startFailure: Error | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private current: Current | undefined;
  private fatal: Error | undefined;
  private isReady = false;
  /** the child's own report that a handler module did not load */
  private loadError: Error | undefined;

  constructor(private readonly options: WorkerProcessOptions) {
    this.child = fork(options.entry, [], {
      // not the runner's own flags (a test runner's loaders, --inspect ports): a clean node
      execArgv: [...options.execArgv],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ILKKUN_WORKER: '1' },
    });
    let readyResolve!: () => void;
    let readyReject!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = (err) => {
        if (this.isReady || this.startFailure) return;
        this.startFailure = err;
        reject(err);
      };
    });
    // a worker that never becomes ready is reported by whoever awaits it; no unhandled rejection
    this.ready.catch(() => {});
    const startTimer = setTimeout(() => {
      readyReject(
        new ConfigError(
          `worker process ${this.pid} did not load its handler modules within ${options.startTimeoutMs} ms: does a module's top level wait for something (a connection, a lock)?`,
        ),
      );
      this.kill('crash');
    }, options.startTimeoutMs);

    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        clearTimeout(startTimer);
        this.state = 'exited';
        this.stopReason ??= 'crash';
        if (!this.isReady) {
          // Only the child's own report makes it a configuration error: a signal or an exit
          // without one is a crash (OOM killer, an operator), which another child may survive.
          readyReject(
            this.loadError
              ? new ConfigError(
                  `a handler module failed to load in worker process ${this.pid}: ${this.loadError.message}`,
                  { cause: this.loadError },
                )
              : new WorkerStartError(this.pid, code, signal, this.fatal?.message),
          );
        }
        const current = this.current;
        this.current = undefined;
        if (current) {
          clearTimeout(current.killTimer);
          current.resolve({ ok: false, error: this.fatal ?? new WorkerCrashedError(this.pid, code, signal) });
        }
        resolve({ code, signal });
      });
    });
    this.child.on('error', (err) => {
      // spawn failures and IPC errors; 'exit' follows for a process that existed
      this.fatal ??= err;
      readyReject(new WorkerStartError(this.child.pid, null, null, err.message));
    });
    this.child.on('message', (raw: unknown) => {
      if (!isChildMessage(raw)) return;
      this.onMessage(raw, () => {
        clearTimeout(startTimer);
        if (this.isReady || this.startFailure) return;
        this.isReady = true;
        if (this.state === 'starting') this.state = 'idle';
        this.idleSince = Date.now();
        readyResolve();
      });
    });
    this.send({ type: 'init', handlers: [...options.handlers] });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  info(): WorkerInfo {
    const out: WorkerInfo = {
      pid: this.pid,
      group: this.options.group,
      state: this.state,
      startedAt: this.startedAt,
      jobsDone: this.jobsDone,
    };
    if (this.rssBytes !== undefined) out.rssBytes = this.rssBytes;
    return out;
  }

  /** Hand the child a job. The outcome settles when it answers or exits. */
  run(record: LeasedJobRecord, hooks: ExecHooks): Promise<Outcome> {
    if (this.current || this.state !== 'idle') {
      return Promise.resolve({
        ok: false,
        error: new Error(`worker ${this.pid} is not idle (${this.state})`),
      });
    }
    this.state = 'busy';
    return new Promise<Outcome>((resolve) => {
      this.current = { jobId: record.id, hooks, resolve, killTimer: undefined };
      this.send({ type: 'run', job: record });
    });
  }

  /** Abort the job's signal in the child; if it has not stopped after `graceMs`, kill the child. */
  abort(jobId: string, reason: Error, graceMs: number, killReason: WorkerStopReason): void {
    const current = this.current;
    if (!current || current.jobId !== jobId) return;
    this.send({ type: 'abort', jobId, reason: serializeError(reason) });
    if (current.killTimer) return;
    current.killTimer = setTimeout(() => {
      if (this.current === current) this.kill(killReason);
    }, graceMs);
  }

  /** Ask the child to exit; SIGKILL if it does not within a short grace. */
  async stop(reason: WorkerStopReason): Promise<void> {
    if (this.state === 'exited') return;
    this.stopReason ??= reason;
    this.state = 'stopping';
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.kill(reason), EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  kill(reason: WorkerStopReason): void {
    if (this.state === 'exited') return;
    this.stopReason ??= reason;
    this.child.kill('SIGKILL');
  }

  private send(message: ParentMessage): void {
    if (!this.child.connected) return;
    try {
      this.child.send(message);
    } catch (err) {
      this.fatal ??= err instanceof Error ? err : new Error(String(err));
      this.kill('crash');
    }
  }

  private onMessage(message: ChildMessage, markReady: () => void): void {
    switch (message.type) {
      case 'ready':
        this.rssBytes = message.rssBytes;
        markReady();
        return;
      case 'init-error':
        this.loadError = deserializeError(message.error);
        return;
      case 'fatal':
        this.fatal = deserializeError(message.error);
        return;
      case 'done':
      case 'failed': {
        const current = this.current;
        if (!current || current.jobId !== message.jobId) return;
        clearTimeout(current.killTimer);
        this.current = undefined;
        this.rssBytes = message.rssBytes;
        this.jobsDone++;
        if (this.state === 'busy') {
          this.state = 'idle';
          this.idleSince = Date.now();
        }
        current.resolve(
          message.type === 'done'
            ? { ok: true, result: message.result }
            : { ok: false, error: deserializeError(message.error) },
        );
        return;
      }
      case 'extend': {
        const current = this.current;
        const reply = (m: Omit<Extract<ParentMessage, { type: 'extended' }>, 'type' | 'requestId'>) =>
          this.send({ type: 'extended', requestId: message.requestId, ...m });
        if (!current || current.jobId !== message.jobId) {
          reply({ error: { name: 'Error', message: 'the job is no longer running in this worker' } });
          return;
        }
        current.hooks.extend(message.ms).then(
          (expiresAt) => reply({ expiresAt }),
          (err: unknown) => reply({ error: serializeError(err) }),
        );
        return;
      }
      case 'log': {
        const current = this.current;
        if (current && current.jobId === message.jobId) current.hooks.log(message.message, message.data);
        return;
      }
    }
  }
}
