import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '@ilkkun/core';
import { LEDGER_DIR_ENV } from './ledger.js';
import type { WorkerConfig, WorkerMessage, WorkerStats } from './worker-protocol.js';

/** One running worker process and what it told us. */
interface Member {
  slot: number;
  proc: ChildProcess;
  pid: number;
  ready: Promise<void>;
  exited: Promise<void>;
  alive: boolean;
  /** handler children (process mode) alive right now */
  children: Set<number>;
  stats: WorkerStats;
}

export interface FleetOptions {
  /** per slot: the worker's config (its URL may differ: one proxy per slot) */
  configs: readonly WorkerConfig[];
  ledgerDir: string;
  /** how long a worker may take to open its backend and start its pool */
  startTimeoutMs: number;
}

const STDERR_TAIL_LINES = 20;
/** A fleet never starts more processes than this in one scenario, whatever dies. */
const MAX_STARTS_PER_SLOT = 200;

/**
 * The worker processes of one scenario. Only pids this fleet spawned (and the handler children
 * they reported) are ever signalled. A worker that dies while the fleet is running is replaced,
 * so work continues; `stop()` ends them all (SIGTERM, then SIGKILL after a grace period).
 */
export class WorkerFleet {
  private readonly members: Member[] = [];
  private readonly retired: { pid: number; stats: WorkerStats }[] = [];
  private readonly startsPerSlot: number[];
  private readonly stderrTail: string[] = [];
  private stopping = false;

  constructor(private readonly options: FleetOptions) {
    this.startsPerSlot = options.configs.map(() => 0);
  }

  /** Start one worker per slot and wait until every pool has started. */
  async start(): Promise<void> {
    await Promise.all(this.options.configs.map((_, slot) => this.spawnSlot(slot).ready));
  }

  get size(): number {
    return this.options.configs.length;
  }

  /** The live worker in `slot` (undefined while it is being replaced). */
  workerPid(slot: number): number | undefined {
    const m = this.members[slot];
    return m?.alive ? m.pid : undefined;
  }

  /** worker processes started so far, replacements included */
  get starts(): number {
    return this.startsPerSlot.reduce((n, s) => n + s, 0);
  }

  get alive(): number {
    return this.members.filter((m) => m?.alive).length;
  }

  /** Handler children (process mode) of the live workers. */
  childPids(): number[] {
    return this.members.flatMap((m) => (m?.alive ? [...m.children] : []));
  }

  /** Sum over every worker process this fleet ran, dead ones included. */
  totals(): WorkerStats & { busy: number } {
    return this.sum(() => true);
  }

  /** `lease:lost` events of workers other than `pids` (the ones a fault hit): those should be none. */
  leaseLostExcept(pids: ReadonlySet<number>): number {
    return this.sum((pid) => !pids.has(pid)).leaseLost;
  }

  private sum(include: (pid: number) => boolean): WorkerStats & { busy: number } {
    const all = [
      ...this.retired,
      ...this.members.filter(Boolean).map((m) => ({ pid: m.pid, stats: m.stats })),
    ]
      .filter((w) => include(w.pid))
      .map((w) => w.stats);
    const sum = (key: keyof WorkerStats) => all.reduce((n, s) => n + s[key], 0);
    const busy = this.members.reduce((n, m) => n + (m?.alive && include(m.pid) ? m.stats.busy : 0), 0);
    return { busy, leaseLost: sum('leaseLost'), errors: sum('errors'), completed: sum('completed') };
  }

  /** The last lines the workers wrote on stderr (their `error` events). */
  stderr(): string[] {
    return [...this.stderrTail];
  }

  /** Send `signal` to the worker in `slot`; true if there was one to signal. */
  signalWorker(slot: number, signal: NodeJS.Signals): boolean {
    const m = this.members[slot];
    if (!m?.alive) return false;
    return m.proc.kill(signal);
  }

  /** SIGKILL a handler child this fleet's workers reported; false if it is gone already. */
  killChild(pid: number): boolean {
    if (!this.childPids().includes(pid)) return false;
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves when the worker in `slot` (after a kill: its replacement) has started its pool. */
  async whenReady(slot: number): Promise<void> {
    await this.members[slot]?.ready;
  }

  /** Stop every worker: SIGTERM (graceful: in-flight jobs are released), SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const live = this.members.filter((m) => m?.alive);
    for (const m of live) {
      m.proc.kill('SIGCONT'); // a stopped worker cannot act on SIGTERM
      m.proc.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      for (const m of live) if (m.alive) m.proc.kill('SIGKILL');
    }, graceMs);
    await Promise.all(live.map((m) => m.exited));
    clearTimeout(timer);
  }

  private spawnSlot(slot: number): Member {
    this.startsPerSlot[slot] = (this.startsPerSlot[slot] ?? 0) + 1;
    const config = this.options.configs[slot]!;
    const entry = fileURLToPath(new URL('./child/worker.js', import.meta.url));
    const proc = spawn(process.execPath, [entry, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        [LEDGER_DIR_ENV]: this.options.ledgerDir,
        ILKKUN_RESOLVE_FROM: [process.env['ILKKUN_RESOLVE_FROM'], process.cwd()].filter(Boolean).join(':'),
      },
    });
    const member: Member = {
      slot,
      proc,
      pid: proc.pid ?? -1,
      alive: true,
      children: new Set(),
      stats: { busy: 0, leaseLost: 0, errors: 0, completed: 0 },
      ready: Promise.resolve(),
      exited: Promise.resolve(),
    };
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    member.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // a start that fails is reported by `start()`; later replacements must not crash the run
    member.ready.catch(() => undefined);
    const startTimer = setTimeout(
      () =>
        failStart(
          new BackendUnavailableError(
            `a chaos worker did not start its pool within ${this.options.startTimeoutMs} ms; last stderr: ${this.stderrTail.slice(-3).join(' | ') || '(none)'}`,
          ),
        ),
      this.options.startTimeoutMs,
    );
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let msg: WorkerMessage;
      try {
        msg = JSON.parse(line) as WorkerMessage;
      } catch {
        return; // a handler's own console output
      }
      if (msg.ready) {
        clearTimeout(startTimer);
        markReady();
      }
      if (msg.child !== undefined) {
        if (msg.up) member.children.add(msg.child);
        else member.children.delete(msg.child);
      }
      if (msg.stats) member.stats = msg.stats;
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    member.exited = new Promise<void>((resolve) => {
      proc.on('exit', (code, signal) => {
        clearTimeout(startTimer);
        member.alive = false;
        failStart(
          new BackendUnavailableError(
            `a chaos worker exited before its pool started (${signal ?? `exit ${code}`}); last stderr: ${this.stderrTail.slice(-3).join(' | ') || '(none)'}`,
          ),
        );
        this.retired.push({ pid: member.pid, stats: member.stats });
        member.stats = { busy: 0, leaseLost: 0, errors: 0, completed: 0 };
        resolve();
        if (!this.stopping && (this.startsPerSlot[slot] ?? 0) < MAX_STARTS_PER_SLOT) this.spawnSlot(slot);
      });
    });
    this.members[slot] = member;
    return member;
  }
}
