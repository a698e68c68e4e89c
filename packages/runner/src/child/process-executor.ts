import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LeasedJob, LeasedJobRecord } from '@ilkkun/core';
import { ConfigError, hasErrorCode } from '@ilkkun/core';
import type { QueueSettings } from '../config.js';
import { WorkerStartError } from '../errors.js';
import type { RunnerEmitter, WorkerInfo, WorkerStopReason } from '../events.js';
import { asError } from '../events.js';
import type { ExecHooks, Execution, Executor } from '../executor.js';
import type { ResolvedHandler } from '../handler.js';
import type { RunnerHooks } from '../hooks.js';
import type { ChildHandlerRef } from './protocol.js';
import { EARLY_DEATH_MS, RespawnBackoff } from './respawn-backoff.js';
import { WorkerProcess } from './worker-process.js';

/**
 * Children that may die in a row while `start()` waits for the first `minWorkers` before it gives
 * up (about 20 s of backoff): a pool none of whose children can start is better reported (exit 1)
 * than left waiting forever.
 */
export const MAX_START_FAILURES = 10;

/** What `start()` waits for: `wanted` children ready, or a reason to give up. */
interface Startup {
  wanted: number;
  ready: number;
  resolve(): void;
  reject(err: Error): void;
}

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
  /** respawn backoff and start-up patience (defaults: 100 ms doubling to 5 s, 10 rounds) */
  respawn?: { baseMs?: number; capMs?: number; maxStartFailures?: number } | undefined;
}

/**
 * Seed 001's slot manager over child processes: `minWorkers` always alive, one more spawned
 * whenever all are busy (up to `concurrency`), idle ones above the minimum stopped one at a time
 * after `workerIdleMs`, each recycled after `maxJobsPerWorker` jobs, a dead one replaced — at
 * once, or after a growing backoff while children keep dying right away.
 */
export class ProcessExecutor implements Executor {
  readonly mode = 'process' as const;
  private readonly live = new Set<WorkerProcess>();
  private readonly refs: ChildHandlerRef[];
  private readonly entry: string;
  private shrinkTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly backoff: RespawnBackoff;
  private readonly maxStartFailures: number;
  /** a pending `ensureMin` once the backoff allows spawning again */
  private respawnTimer: NodeJS.Timeout | undefined;
  /** slots waiting out the backoff before they may spawn; woken early by `close()` */
  private readonly pauses = new Set<() => void>();
  private startup: Startup | undefined;

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
    this.backoff = new RespawnBackoff(options.respawn?.baseMs, options.respawn?.capMs);
    this.maxStartFailures = options.respawn?.maxStartFailures ?? MAX_START_FAILURES;
  }

  private get settings(): QueueSettings {
    return this.options.settings;
  }

  /**
   * Resolves once `minWorkers` (at least one) children are ready. A handler module that does not
   * load is a configuration error, found here and reported at once (`ConfigError`). A child that
   * dies while starting (a signal, an exit without that report) is a crash: it is reported as an
   * `error` event (`WorkerStartError`) and replaced, with backoff if it keeps happening; only
   * `MAX_START_FAILURES` of those in a row fail the start, with that `WorkerStartError`.
   */
  async start(): Promise<void> {
    const wanted = Math.max(1, this.settings.minWorkers);
    const started = new Promise<void>((resolve, reject) => {
      this.startup = { wanted, ready: 0, resolve, reject };
    });
    for (let i = 0; i < wanted; i++) this.spawn();
    try {
      await started;
    } catch (err) {
      this.closing = true;
      this.stopRespawning();
      await Promise.all([...this.live].map((w) => w.stop('crash')));
      throw err;
    } finally {
      this.startup = undefined;
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
    this.stopRespawning();
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
      if (leaving) {
        await leaving.exited;
        continue;
      }
      // children keep dying right away: wait out the backoff (a replacement may start meanwhile)
      const wait = this.backoff.waitMs();
      if (wait > 0) {
        await this.pause(wait);
        if (this.closing) throw new Error(`the ${this.options.group} worker pool is closing`);
        continue;
      }
      // nothing leaving while at the limit means every live worker is busy or reserved, which a
      // free slot rules out; spawning is then still better than deadlocking the slot
      return this.reserve(this.spawn());
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
        const startup = this.startup;
        if (startup && ++startup.ready >= startup.wanted) startup.resolve();
      },
      () => {},
    );
    void worker.exited.then(({ code, signal }) => {
      this.live.delete(worker);
      const reason = worker.stopReason ?? 'crash';
      this.options.emitter.emit('worker:stop', { worker: worker.info(), reason, exitCode: code, signal });
      this.callHook('onWorkerStop', worker.info());
      if (this.closing) return;
      if (reason === 'crash') this.afterCrash(worker, code, signal);
      this.ensureMin();
    });
    return worker;
  }

  /**
   * A child died without being asked to. Dying right away (while starting, or within
   * `EARLY_DEATH_MS`) lengthens the respawn backoff; one that had lived longer resets it. A death
   * while starting is reported: a handler that does not load fails `start()` with CONFIG, a crash
   * is an `error` event (and fails `start()` only after `MAX_START_FAILURES` in a row).
   */
  private afterCrash(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const failure = worker.startFailure;
    const early = failure !== undefined || Date.now() - worker.startedAt.getTime() < EARLY_DEATH_MS;
    const wait = early ? this.backoff.died() : 0;
    if (!early) this.backoff.healthy();
    if (!failure) return;
    const { group } = this.options;
    const startup = this.startup;
    if (startup && hasErrorCode(failure, 'CONFIG')) {
      startup.reject(
        new ConfigError(`[${group}] ${failure.message}`, {
          cause: failure,
          hint: 'fix the handler module or its path in the config (`node <file>` shows the same error; --debug prints the stack)',
        }),
      );
      return;
    }
    if (startup && this.backoff.consecutiveFailures >= this.maxStartFailures) {
      startup.reject(
        new WorkerStartError(
          worker.pid,
          code,
          signal,
          `[${group}] the last of ${this.maxStartFailures} rounds of worker processes that died while starting; giving up`,
        ),
      );
      return;
    }
    this.options.emitter.emit('error', {
      error: failure,
      context: `starting a worker for ${group}${wait > 0 ? `; the next start in ${wait} ms` : ''}`,
    });
  }

  /** `ms`, or less when the executor closes meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pauses.add(wake);
    });
  }

  private stopRespawning(): void {
    clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
    for (const wake of [...this.pauses]) wake();
  }

  private afterJob(worker: WorkerProcess): void {
    if (worker.state !== 'idle') return; // exited (replaced on exit) or stopping
    this.backoff.healthy();
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
    // live (not only active) processes count: one still exiting holds memory too; during a
    // backoff the respawn timer (or a waiting slot) starts the next child
    if (!spare && this.live.size < this.settings.concurrency && this.backoff.waitMs() === 0) this.spawn();
  }

  /** Top up to `minWorkers` (to what `start()` waits for while it runs), once the backoff allows. */
  private ensureMin(): void {
    if (this.closing) return;
    const wait = this.backoff.waitMs();
    if (wait > 0) {
      this.respawnTimer ??= setTimeout(() => {
        this.respawnTimer = undefined;
        this.ensureMin();
      }, wait);
      return;
    }
    const min = this.startup?.wanted ?? this.settings.minWorkers;
    const active = [...this.live].filter((w) => w.state !== 'stopping' && w.state !== 'exited').length;
    for (let i = active; i < min; i++) this.spawn();
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
