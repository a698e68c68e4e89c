import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import { ConfigError, hasErrorCode } from '@ilkkun/core';
import type { QueueSettings } from '../config.js';
import type { RunnerEmitter, WorkerInfo, WorkerStopReason } from '../events.js';
import { asError } from '../events.js';
import type { ExecHooks, Execution, Executor } from '../executor.js';
import type { ResolvedHandler } from '../handler.js';
import type { RunnerHooks } from '../hooks.js';
import type { ChildHandlerRef } from './protocol.js';
import { WorkerProcess } from './worker-process.js';

export interface ProcessExecutorOptions {
  group: string;
  specs: ReadonlyMap<string, ResolvedHandler>;
  settings: QueueSettings;
  emitter: RunnerEmitter;
  hooks: RunnerHooks;
  /** path of the child entry (default: dist/child/worker-main.js of this package) */
  entry?: string | undefined;
  execArgv?: readonly string[] | undefined;
  startTimeoutMs?: number | undefined;
}

/**
 * Seed 001's slot manager over child processes: `minWorkers` always alive, one more spawned
 * whenever all are busy (up to `concurrency`), idle ones above the minimum stopped one at a time
 * after `workerIdleMs`, each recycled after `maxJobsPerWorker` jobs, a dead one replaced.
 */
export class ProcessExecutor implements Executor {
  readonly mode = 'process' as const;
  private readonly live = new Set<WorkerProcess>();
  private readonly refs: ChildHandlerRef[];
  private readonly entry: string;
  private shrinkTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: ProcessExecutorOptions) {
    this.refs = [...options.specs].map(([queue, spec]) => {
      if (spec.kind !== 'module') {
        throw new ConfigError(
          `queue "${queue}" runs in process mode, so its handler must be a module path (loaded in each child), not a function`,
        );
      }
      const ref: ChildHandlerRef = { queue, url: spec.url };
      if (spec.exportName !== undefined) ref.exportName = spec.exportName;
      return ref;
    });
    this.entry = options.entry ?? resolveWorkerEntry();
  }

  private get settings(): QueueSettings {
    return this.options.settings;
  }

  async start(): Promise<void> {
    const first = Array.from({ length: Math.max(1, this.settings.minWorkers) }, () => this.spawn());
    // Fail fast: a handler module that does not load is a configuration error, found at start.
    try {
      await Promise.all(first.map((w) => w.ready));
    } catch (err) {
      await Promise.all(first.map((w) => w.stop('crash')));
      throw new ConfigError(`[${this.options.group}] worker failed to start: ${asError(err).message}`, {
        cause: err,
      });
    }
    const every = Math.min(5_000, Math.max(50, Math.floor(this.settings.workerIdleMs / 2)));
    this.shrinkTimer = setInterval(() => this.shrink(), every);
    this.shrinkTimer.unref();
  }

  async run(_job: LeasedJob<unknown>, record: LeasedJobRecord, hooks: ExecHooks): Promise<Execution> {
    const worker = await this.acquire();
    const outcome = worker.run(record, hooks);
    worker.reserved = false;
    void outcome.then(() => this.afterJob(worker));
    this.growIfAllBusy();
    return {
      pid: worker.pid,
      outcome,
      abort: (reason) => {
        const why: WorkerStopReason = hasErrorCode(reason, 'LEASE_LOST')
          ? 'lease-lost'
          : reason.name === 'JobTimeoutError'
            ? 'timeout'
            : 'shutdown';
        worker.abort(record.id, reason, this.settings.killGraceMs, why);
      },
    };
  }

  workers(): WorkerInfo[] {
    return [...this.live].map((w) => w.info());
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.shrinkTimer);
    // Jobs still in a child here were already released (or decided): nothing to wait for.
    await Promise.all(
      [...this.live].map((w) => {
        if (w.busy) {
          w.kill('shutdown');
          return w.exited;
        }
        return w.stop('shutdown');
      }),
    );
  }

  /** An idle ready worker, else an unreserved one still starting, else a new one; returned reserved. */
  private async acquire(): Promise<WorkerProcess> {
    // bounded: each round either returns or awaits a worker that then becomes usable or dies
    for (let round = 0; round < 5; round++) {
      const worker = await this.availableOrNew();
      try {
        await worker.ready;
      } catch (err) {
        worker.reserved = false;
        if (round === 4) throw new Error(`no worker process could be started: ${asError(err).message}`);
        continue;
      }
      // still reserved: run() takes it in the same tick and lifts the reservation
      if (worker.state === 'idle') return worker;
      worker.reserved = false;
    }
    throw new Error('no worker process became available');
  }

  /**
   * An idle ready worker, else an unreserved one still starting, else a new one — but never more
   * live processes than `concurrency`: a recycled child that is still exiting counts until it is
   * gone (the limit is about memory and CPU, and an exiting process holds both), so the slot waits
   * for that exit and then looks again (the exit may itself have started a replacement).
   */
  private async availableOrNew(): Promise<WorkerProcess> {
    for (;;) {
      const idle = [...this.live].find((w) => w.state === 'idle' && !w.reserved && !w.busy);
      const usable = idle ?? [...this.live].find((w) => w.state === 'starting' && !w.reserved);
      if (usable) return this.reserve(usable);
      const leaving =
        this.live.size >= this.settings.concurrency
          ? [...this.live].find((w) => w.state === 'stopping' || w.state === 'exited')
          : undefined;
      // nothing leaving while at the limit means every live worker is busy or reserved, which a
      // free slot rules out; spawning is then still better than deadlocking the slot
      if (!leaving) return this.reserve(this.spawn());
      await leaving.exited;
    }
  }

  /** Marked in the same tick it is chosen, so two slots can never pick one worker. */
  private reserve(worker: WorkerProcess): WorkerProcess {
    worker.reserved = true;
    return worker;
  }

  private spawn(): WorkerProcess {
    const worker = new WorkerProcess({
      entry: this.entry,
      group: this.options.group,
      handlers: this.refs,
      execArgv: this.options.execArgv ?? [],
      startTimeoutMs: this.options.startTimeoutMs ?? 30_000,
    });
    this.live.add(worker);
    worker.ready.then(
      () => {
        this.options.emitter.emit('worker:start', { worker: worker.info() });
        this.callHook('onWorkerStart', worker.info());
      },
      () => {},
    );
    void worker.exited.then(({ code, signal }) => {
      this.live.delete(worker);
      const reason = worker.stopReason ?? 'crash';
      this.options.emitter.emit('worker:stop', { worker: worker.info(), reason, exitCode: code, signal });
      this.callHook('onWorkerStop', worker.info());
      this.ensureMin();
    });
    return worker;
  }

  private afterJob(worker: WorkerProcess): void {
    if (worker.state !== 'idle') return; // exited (replaced on exit) or stopping
    const max = this.settings.maxJobsPerWorker;
    if (max > 0 && worker.jobsDone >= max) {
      // seed 001's `workleft`: a fresh process every N jobs, whatever the handlers leak
      void worker.stop('recycle');
    }
  }

  /** "grow when all busy": keep one spare starting while there is room under `concurrency`. */
  private growIfAllBusy(): void {
    if (this.closing) return;
    const active = [...this.live].filter((w) => w.state !== 'stopping' && w.state !== 'exited');
    const spare = active.some(
      (w) => (w.state === 'idle' || w.state === 'starting') && !w.reserved && !w.busy,
    );
    // live (not only active) processes count: one still exiting holds memory too
    if (!spare && this.live.size < this.settings.concurrency) this.spawnSpare();
  }

  private ensureMin(): void {
    if (this.closing) return;
    const active = [...this.live].filter((w) => w.state !== 'stopping' && w.state !== 'exited').length;
    for (let i = active; i < this.settings.minWorkers; i++) this.spawnSpare();
  }

  private spawnSpare(): void {
    const worker = this.spawn();
    worker.ready.catch((err: unknown) => {
      this.options.emitter.emit('error', {
        error: asError(err),
        context: `starting a worker for ${this.options.group}`,
      });
    });
  }

  /** Stop the longest-idle worker above the minimum, one per tick (never all at once). */
  private shrink(): void {
    if (this.closing) return;
    const active = [...this.live].filter((w) => w.state !== 'stopping' && w.state !== 'exited');
    if (active.length <= this.settings.minWorkers) return;
    const cutoff = Date.now() - this.settings.workerIdleMs;
    const candidate = active
      .filter((w) => w.state === 'idle' && !w.reserved && !w.busy && w.idleSince <= cutoff)
      .sort((a, b) => a.idleSince - b.idleSince)[0];
    if (candidate) void candidate.stop('idle');
  }

  private callHook(name: 'onWorkerStart' | 'onWorkerStop', info: WorkerInfo): void {
    const hook = this.options.hooks[name];
    if (!hook) return;
    Promise.resolve()
      .then(() => hook(info))
      .catch((err: unknown) =>
        this.options.emitter.emit('error', { error: asError(err), context: `${name} hook` }),
      );
  }
}

/**
 * The compiled child entry. From dist/ it sits next to this file; when this file runs from src/
 * (tests through vitest) the built copy in dist/ is used, since node cannot run the .ts itself.
 */
export function resolveWorkerEntry(): string {
  const candidates = [
    new URL('./worker-main.js', import.meta.url),
    new URL('../../dist/child/worker-main.js', import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (path.endsWith('.js') && existsSync(path)) return path;
  }
  throw new ConfigError(
    'process mode needs the built worker entry dist/child/worker-main.js of @ilkkun/runner; run its build first',
  );
}
