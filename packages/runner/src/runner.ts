import type { Backend, OpenBackendOptions } from '@ilkkun/core';
import { ConfigError, openBackend } from '@ilkkun/core';
import { AckPath } from './ack-path.js';
import { ProcessExecutor } from './child/process-executor.js';
import type { QueueSettings } from './config.js';
import { defaultSettings } from './config.js';
import type { EventName, Listener } from './events.js';
import { asError, RunnerEmitter } from './events.js';
import type { Executor } from './executor.js';
import type { HandlerSpec } from './handler.js';
import type { RunnerHooks } from './hooks.js';
import { InlineExecutor } from './inline-executor.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RunnerMetrics } from './metrics.js';
import { type GroupPlan, planGroups } from './plan.js';
import { type PoolContext, SlotGroup } from './pool.js';
import type { GroupStatus, StatusSnapshot, Totals } from './scoreboard.js';
import { scoreboardLine, slotStatus, workerStatus } from './scoreboard.js';
import { installSignalHandlers, withinGrace } from './shutdown.js';
import type { StatusServer } from './status-server.js';
import { startStatusServer } from './status-server.js';

export interface RunnerOptions {
  /** a backend you opened (you close it), or a URL the runner opens and closes itself */
  backend: Backend | string;
  /** queue name → handler (function, module path, or `{ handler, settings }`) */
  handlers: Record<string, HandlerSpec>;
  /** defaults for every queue (per-queue `settings` override these) */
  global?: Partial<QueueSettings>;
  hooks?: RunnerHooks;
  graceMs?: number;
  handleSignals?: boolean;
  /** status server on 127.0.0.1; off unless a port is given (0 = any free port) */
  status?: { port: number };
  /** module paths in `handlers` are resolved from here (default: the current directory) */
  baseDir?: string;
  /** how a backend URL is opened (e.g. `importer` so backend packages resolve from your app) */
  openBackend?: OpenBackendOptions;
  /** `process` mode: node flags for the children (default none) */
  workerExecArgv?: readonly string[];
  /** `process` mode: child entry override (default: this package's dist/child/worker-main.js) */
  workerEntry?: string;
}

export interface StopOptions {
  /** how long in-flight jobs may still finish before they are released (default: the runner's `graceMs`) */
  graceMs?: number;
}

type RunnerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * A worker pool: pops jobs for its queues, runs their handlers in slots (inline or in child
 * processes), keeps their leases alive, and acks, retries, buries or releases each exactly once.
 */
export class Runner {
  private readonly emitter = new RunnerEmitter();
  private readonly perQueue: Map<string, QueueSettings>;
  private readonly plans: GroupPlan[];
  private readonly groups: SlotGroup[] = [];
  private readonly options: RunnerOptions;
  private readonly graceMs: number;
  private readonly handleSignals: boolean;
  private readonly statusPort: number | undefined;
  private readonly totals: Totals = {
    started: 0,
    completed: 0,
    failed: 0,
    retried: 0,
    dead: 0,
    released: 0,
    leaseLost: 0,
  };
  private readonly metricsRegistry: RunnerMetrics;
  private backendInstance: Backend | undefined;
  private ownsBackend = false;
  private keeper: LeaseKeeper | undefined;
  private acks: AckPath | undefined;
  private server: StatusServer | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  private state: RunnerState = 'idle';
  private startedAt: Date | undefined;
  private drained = false;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private resolveStopped!: () => void;
  /** resolves once the runner has stopped (by `stop()` or a signal) */
  readonly stopped: Promise<void>;

  constructor(options: RunnerOptions) {
    this.options = options;
    const defaults = defaultSettings();
    this.graceMs = nonNegativeInt(options.graceMs, defaults.runner.graceMs, 'graceMs');
    this.handleSignals = options.handleSignals ?? defaults.runner.handleSignals;
    this.statusPort = options.status === undefined ? defaults.runner.statusPort : options.status.port;
    if (
      this.statusPort !== undefined &&
      !(Number.isInteger(this.statusPort) && this.statusPort >= 0 && this.statusPort < 65536)
    ) {
      throw new ConfigError('status.port must be an integer between 0 and 65535');
    }
    if (
      typeof options.backend !== 'string' &&
      (typeof options.backend !== 'object' || options.backend === null)
    ) {
      throw new ConfigError('backend must be a Backend or a backend URL');
    }
    const plan = planGroups(options.handlers, options.global, options.baseDir ?? process.cwd());
    this.plans = plan.groups;
    this.perQueue = plan.perQueue;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.metricsRegistry = new RunnerMetrics({
      emitter: this.emitter,
      queues: [...this.perQueue.keys()],
      busy: () => this.busy,
      size: () => this.size,
      backend: () => this.backendInstance,
    });
    this.countTotals();
  }

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    return this.emitter.on(event, listener);
  }

  once<K extends EventName>(event: K, listener: Listener<K>): () => void {
    return this.emitter.once(event, listener);
  }

  off<K extends EventName>(event: K, listener: Listener<K>): void {
    this.emitter.off(event, listener);
  }

  /** The backend in use (after `start()` when given as a URL). */
  get backend(): Backend {
    if (!this.backendInstance)
      throw new ConfigError('the runner has not opened its backend yet; call start() first');
    return this.backendInstance;
  }

  /** Queues this runner works. */
  get queues(): string[] {
    return [...this.perQueue.keys()];
  }

  /** Effective settings of a queue (defaults ← global ← the queue's own). */
  settingsOf(queue: string): QueueSettings {
    const s = this.perQueue.get(queue);
    if (!s) throw new ConfigError(`queue "${queue}" has no handler in this runner`);
    return { ...s };
  }

  get busy(): number {
    return this.groups.reduce((n, g) => n + g.busy, 0);
  }

  get size(): number {
    return this.plans.reduce((n, p) => n + p.settings.concurrency, 0);
  }

  /** Address of the status server, if one is running. */
  get statusUrl(): string | undefined {
    return this.server?.url;
  }

  start(): Promise<void> {
    if (this.state !== 'idle') {
      return Promise.reject(new ConfigError(`a runner starts once (this one is ${this.state})`));
    }
    this.state = 'starting';
    this.startPromise = this.startInner().catch(async (err: unknown) => {
      this.state = 'stopping';
      await this.teardown();
      throw err;
    });
    return this.startPromise;
  }

  private async startInner(): Promise<void> {
    const { options } = this;
    if (typeof options.backend === 'string') {
      this.backendInstance = await openBackend(options.backend, options.openBackend);
      this.ownsBackend = true;
    } else {
      this.backendInstance = options.backend;
    }
    const backend = this.backendInstance;
    this.keeper = new LeaseKeeper(backend, (error, jobId) =>
      this.emitter.emit('error', { error, context: 'lease heartbeat', jobId }),
    );
    this.acks = new AckPath(backend, this.keeper, this.emitter);
    const ctx: PoolContext = {
      backend,
      acks: this.acks,
      emitter: this.emitter,
      keeper: this.keeper,
      hooks: options.hooks ?? {},
      settingsFor: (queue) => this.perQueue.get(queue) ?? this.plans[0]!.settings,
      onJobStart: () => {
        this.drained = false;
      },
      onEmptyPop: () => this.checkDrained(),
    };
    for (const plan of this.plans) {
      const executor: Executor =
        plan.settings.mode === 'process'
          ? new ProcessExecutor({
              group: plan.name,
              specs: plan.specs,
              settings: plan.settings,
              emitter: this.emitter,
              hooks: ctx.hooks,
              entry: options.workerEntry,
              execArgv: options.workerExecArgv,
            })
          : new InlineExecutor(plan.name, plan.specs);
      this.groups.push(new SlotGroup(plan.name, [...plan.specs.keys()], plan.settings, executor, ctx));
    }
    // Load handlers / spawn minimum workers first: a broken handler fails start(), not a job.
    await Promise.all(this.groups.map((g) => g.executor.start()));
    if (this.statusPort !== undefined) {
      this.server = await startStatusServer(this.statusPort, {
        status: () => this.status(),
        metrics: async () => ({
          contentType: this.metricsRegistry.contentType,
          body: await this.metricsRegistry.text(),
        }),
        scoreboard: () => this.scoreboard(),
        health: () => ({ ok: this.state === 'running', state: this.state }),
      });
    }
    if (this.handleSignals) this.removeSignalHandlers = installSignalHandlers(() => this.stop());
    this.state = 'running';
    this.startedAt = new Date();
    for (const g of this.groups) {
      if (g.executor.mode === 'inline') {
        const [worker] = g.executor.workers();
        if (worker) this.emitter.emit('worker:start', { worker });
      }
    }
    this.emitter.emit('pool:start', {
      slots: this.size,
      groups: this.groups.map((g) => ({ name: g.name, queues: g.queues, slots: g.slots.length })),
    });
    for (const g of this.groups) g.start();
  }

  /**
   * Graceful stop: stop popping (a waiting pop is aborted), let in-flight jobs finish for up to
   * `graceMs`, release the rest exactly once (`requeue(job, { release: true })`, the attempt given
   * back), stop children, close what the runner opened. Calling it again returns the same promise.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    const graceMs = nonNegativeInt(options.graceMs, this.graceMs, 'graceMs');
    this.stopPromise = this.stopInner(graceMs);
    return this.stopPromise;
  }

  private async stopInner(graceMs: number): Promise<void> {
    // stop() during start(): let the start finish (or fail) first, then stop what it started
    await this.startPromise?.catch(() => {});
    if (this.state === 'idle' || this.state === 'stopped') {
      this.state = 'stopped';
      this.resolveStopped();
      return;
    }
    this.state = 'stopping';
    for (const g of this.groups) g.stopFetching();
    await withinGrace(Promise.all(this.groups.map((g) => g.settled())), graceMs);
    let released = 0;
    for (const n of await Promise.all(this.groups.map((g) => g.releaseAll()))) released += n;
    // A pop that ignores its abort signal could still be out; it releases what it brings back.
    await withinGrace(Promise.all(this.groups.map((g) => g.loopEnded())), 5_000);
    await this.teardown(released);
  }

  private async teardown(released = 0): Promise<void> {
    // acks the store never answered within the grace period: their jobs run again when their
    // leases end (at least once), and shutdown is not held hostage by a store that is down
    this.acks?.giveUp(new Error('the runner stopped before the store confirmed this ack'));
    const results = await Promise.allSettled(this.groups.map((g) => g.executor.close()));
    for (const r of results) {
      if (r.status === 'rejected')
        this.emitter.emit('error', { error: asError(r.reason), context: 'closing workers' });
    }
    for (const g of this.groups) {
      if (g.executor.mode === 'inline') {
        const [worker] = g.executor.workers();
        if (worker)
          this.emitter.emit('worker:stop', { worker, reason: 'shutdown', exitCode: null, signal: null });
      }
    }
    this.keeper?.stop();
    this.removeSignalHandlers?.();
    await this.server?.close();
    if (this.ownsBackend) {
      await this.backendInstance?.close().catch((err: unknown) => {
        this.emitter.emit('error', { error: asError(err), context: 'closing backend' });
      });
    }
    this.state = 'stopped';
    this.emitter.emit('pool:stop', { released });
    this.resolveStopped();
  }

  /** The scoreboard served at `/status`. */
  status(): StatusSnapshot {
    const groups: GroupStatus[] = this.groups.map((g) => ({
      name: g.name,
      mode: g.executor.mode,
      queues: [...g.queues],
      slots: g.slots.map(slotStatus),
      workers: g.executor.workers().map(workerStatus),
    }));
    const state = this.state === 'starting' ? 'idle' : this.state;
    const mem = process.memoryUsage();
    return {
      pid: process.pid,
      state,
      startedAt: this.startedAt?.toISOString(),
      uptimeMs: this.startedAt ? Date.now() - this.startedAt.getTime() : 0,
      busy: this.busy,
      size: this.size,
      scoreboard: scoreboardLine(groups),
      totals: { ...this.totals },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      groups,
    };
  }

  /** One line, Qudo style: `_W_W__ 2/6 busy`. */
  scoreboard(): string {
    return this.status().scoreboard;
  }

  /** Prometheus text exposition of this runner's metrics. */
  metrics(): Promise<string> {
    return this.metricsRegistry.text();
  }

  /** Running totals since start (what the live view shows). */
  counters(): Totals {
    return { ...this.totals };
  }

  private checkDrained(): void {
    if (this.drained || this.state !== 'running' || this.busy > 0) return;
    this.drained = true;
    this.emitter.emit('pool:drain', { at: new Date() });
  }

  private countTotals(): void {
    const t = this.totals;
    this.emitter.on('job:start', () => t.started++);
    this.emitter.on('job:complete', () => t.completed++);
    this.emitter.on('job:fail', () => t.failed++);
    this.emitter.on('job:retry', () => t.retried++);
    this.emitter.on('job:dead', () => t.dead++);
    this.emitter.on('job:release', () => t.released++);
    this.emitter.on('lease:lost', () => t.leaseLost++);
  }
}

/** Create a runner (not started: call `start()`). Throws `ConfigError` on bad options, before anything runs. */
export function createRunner(options: RunnerOptions): Runner {
  return new Runner(options);
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be an integer ≥ 0`);
  return value;
}
