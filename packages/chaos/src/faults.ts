import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@ilkkun/core';
import type { WorkerFleet } from './fleet.js';
import type { ResolvedOptions } from './options.js';
import type { FaultProxy } from './proxy.js';
import type { ScenarioName } from './scenarios.js';

export interface FaultContext {
  fleet: WorkerFleet;
  /** one per worker slot, in proxy scenarios */
  proxies: readonly FaultProxy[];
  options: ResolvedOptions;
  /** append a line to the scenario's fault log */
  log(what: string): void;
  /** worker pids a fault hit (stopped, silenced): their own lost leases are expected */
  faulted: Set<number>;
}

/** Inject fault number `index` (from 0); resolves when the fault is over (a stopped worker resumed). */
export type Injector = (ctx: FaultContext, index: number) => Promise<void>;

/** A stopped worker or a silent link lasts this many leases: long enough that every lease it held expires. */
const OUTAGE_LEASES = 3;

function pick<T>(items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0)
    out.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!);
  return out;
}

const killChildren: Injector = async (ctx) => {
  const children = ctx.fleet.childPids();
  // a storm: half of all handler children at once, at least one
  const victims = pick(children, Math.max(1, Math.ceil(children.length / 2)));
  const killed = victims.filter((pid) => ctx.fleet.killChild(pid));
  ctx.log(`SIGKILL ${killed.length} of ${children.length} handler children`);
};

const killWorkers: Injector = async (ctx) => {
  const slots = [...Array(ctx.fleet.size).keys()].filter((s) => ctx.fleet.workerPid(s) !== undefined);
  const victims = pick(slots, Math.max(1, Math.floor(ctx.fleet.size / 2)));
  const pids = victims.map((s) => ctx.fleet.workerPid(s));
  for (const slot of victims) ctx.fleet.signalWorker(slot, 'SIGKILL');
  ctx.log(`SIGKILL worker pids ${pids.join(', ')} (replacements start)`);
};

const stopWorker: Injector = async (ctx, index) => {
  const slot = index % ctx.fleet.size;
  const pid = ctx.fleet.workerPid(slot);
  if (pid === undefined || !ctx.fleet.signalWorker(slot, 'SIGSTOP')) {
    ctx.log(`worker slot ${slot} not running; nothing stopped`);
    return;
  }
  ctx.faulted.add(pid);
  const ms = OUTAGE_LEASES * ctx.options.leaseMs;
  await sleep(ms);
  ctx.fleet.signalWorker(slot, 'SIGCONT');
  ctx.log(`SIGSTOP worker ${pid} for ${ms} ms, then SIGCONT`);
};

const cutConnections: Injector = async (ctx) => {
  const n = ctx.proxies.reduce((sum, p) => sum + p.connections, 0);
  for (const proxy of ctx.proxies) proxy.cut();
  ctx.log(`reset ${n} connections of ${ctx.proxies.length} workers`);
};

const silentConnection: Injector = async (ctx, index) => {
  const slot = index % ctx.proxies.length;
  const proxy = ctx.proxies[slot]!;
  const ms = OUTAGE_LEASES * ctx.options.leaseMs;
  const pid = ctx.fleet.workerPid(slot);
  if (pid !== undefined) ctx.faulted.add(pid);
  proxy.silence();
  await sleep(ms);
  proxy.heal();
  ctx.log(
    `worker slot ${slot}: link silent for ${ms} ms (${proxy.connections} connections open), then healed`,
  );
};

const serverRestart: Injector = async (ctx) => {
  const cmd = ctx.options.restartCmd;
  if (!cmd) throw new ConfigError('server-restart needs --restart-cmd');
  const started = Date.now();
  const { code, output } = await runShell(cmd, ctx.options.restartTimeoutMs);
  if (code !== 0) {
    throw new ConfigError(
      `--restart-cmd ${JSON.stringify(cmd)} ${code === null ? `did not finish within ${ctx.options.restartTimeoutMs} ms (killed)` : `exited with ${code}`}; its output: ${output.trim().slice(-400) || '(none)'} — fix the command so it restarts the server and exits 0`,
    );
  }
  ctx.log(`ran --restart-cmd in ${Date.now() - started} ms`);
};

export const INJECTORS: Readonly<Record<ScenarioName, Injector>> = {
  'kill-children': killChildren,
  'kill-workers-process': killWorkers,
  'kill-workers-inline': killWorkers,
  'stop-worker': stopWorker,
  'cut-connections': cutConnections,
  'silent-connection': silentConnection,
  'server-restart': serverRestart,
};

/** How long one fault keeps a worker out, for scenarios whose faults are outages that run back to back. */
export const INJECTOR_OUTAGE_MS: Partial<Record<ScenarioName, (options: ResolvedOptions) => number>> = {
  'stop-worker': (o) => OUTAGE_LEASES * o.leaseMs,
  'silent-connection': (o) => OUTAGE_LEASES * o.leaseMs,
};

/** Run a shell command with a time limit; the command is killed (its own process group) if it overstays. */
function runShell(cmd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // the group of the shell we started, and only that
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: err.message });
    });
    // 'exit', not 'close': a server the command starts in the background may keep the pipes open
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code, output });
    });
  });
}
