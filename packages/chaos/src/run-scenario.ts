import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, Client } from '@ilkkun/core';
import type { ChaosPayload } from './child/handler.js';
import { INJECTOR_OUTAGE_MS, INJECTORS } from './faults.js';
import { WorkerFleet } from './fleet.js';
import { readLedger } from './ledger.js';
import type { ChaosProgress, ResolvedOptions } from './options.js';
import { FaultProxy } from './proxy.js';
import type { ScenarioResult } from './report.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';
import { cleanUp, deadSeqs, storeCounts, sweepQueue } from './store-check.js';
import { completedTwice, duplicateFigures, neverRan, ranUnconfirmed, tallyLedger } from './tally.js';
import { tcpTarget } from './target.js';
import type { WorkerConfig } from './worker-protocol.js';

export interface ScenarioContext {
  url: string;
  /** the orchestrator's own connection, straight to the store (never through a proxy) */
  backend: Backend;
  options: ResolvedOptions;
  ledgerRoot: string;
  onProgress?: (p: ChaosProgress) => void;
}

/** Attempts each chaos job may use: far more than any scenario burns, so none goes dead. */
const JOB_ATTEMPTS = 1000;
const POLL_MS = 250;
const LISTED_SEQS = 20;

/** Why a scenario cannot run against this URL with these options, if it cannot. */
export function notRunnable(
  name: ScenarioName,
  url: string,
  backend: Backend,
  options: ResolvedOptions,
): Pick<ScenarioResult, 'status' | 'note'> | undefined {
  if (!backend.capabilities.multiProcess) {
    return {
      status: 'not-applicable',
      note: `${backend.name} keeps jobs in one process's memory; workers in other processes cannot share it`,
    };
  }
  const spec = SCENARIOS[name];
  if (spec.needs === 'proxy') {
    const target = tcpTarget(url);
    if ('notApplicable' in target) return { status: 'not-applicable', note: target.notApplicable };
  }
  if (spec.needs === 'restart-cmd') {
    if (backend.name === 'sqlite')
      return { status: 'not-applicable', note: 'sqlite has no server to restart' };
    if (!options.restartCmd) {
      return {
        status: 'skipped',
        note: 'give --restart-cmd "<shell command that restarts the server>" to run it',
      };
    }
  }
  return undefined;
}

/** Run one scenario end to end: push, start workers, inject faults, drain, count, clean up. */
export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { backend, options } = ctx;
  const started = Date.now();
  const queue = `chaos-${name}-${randomBytes(4).toString('hex')}`;
  const ledgerDir = join(ctx.ledgerRoot, queue);
  mkdirSync(ledgerDir, { recursive: true });
  const spec = SCENARIOS[name];
  const proxies: FaultProxy[] = [];
  let fleet: WorkerFleet | undefined;
  const faultLog: string[] = [];
  const faulted = new Set<number>();
  let phase: ChaosProgress['phase'] = 'starting';
  let faultsDone = 0;
  let submitted = 0;
  let ran = 0;
  let completed = 0;
  const refreshTally = () => {
    const tally = tallyLedger(readLedger(ledgerDir));
    ran = tally.runs.size;
    completed = tally.completions.size;
    return tally;
  };
  const progress = () => {
    if (!ctx.onProgress) return;
    if (phase === 'faults') refreshTally();
    ctx.onProgress({
      scenario: name,
      queue,
      phase,
      submitted,
      ran,
      completed,
      faultsDone,
      faultsPlanned: faultsFor(name, options),
      workersAlive: fleet?.alive ?? 0,
      elapsedMs: Date.now() - started,
    });
  };
  const ticker = setInterval(progress, POLL_MS);
  try {
    const configs: WorkerConfig[] = [];
    const target = spec.needs === 'proxy' ? tcpTarget(ctx.url) : undefined;
    for (let slot = 0; slot < options.workers; slot++) {
      let url = ctx.url;
      if (target && !('notApplicable' in target)) {
        const proxy = new FaultProxy(target.host, target.port);
        proxies.push(proxy);
        url = target.through(await proxy.start());
      }
      configs.push({
        url,
        queue,
        mode: spec.mode,
        concurrency: options.concurrency,
        leaseMs: options.leaseMs,
      });
    }

    submitted = await pushJobs(backend, queue, options, faultWindowMs(name, options));
    fleet = new WorkerFleet({ configs, ledgerDir, startTimeoutMs: 30_000 });
    await fleet.start();

    // faults, spread evenly over the duration; one at a time (a stopped worker resumes before the next)
    phase = 'faults';
    const faultStart = Date.now();
    const injector = INJECTORS[name];
    const faults = faultsFor(name, options);
    for (let i = 0; i < faults; i++) {
      const due = faultStart + ((i + 1) * options.durationMs) / (faults + 1);
      if (due > Date.now()) await sleep(due - Date.now());
      await injector({ fleet, proxies, options, faulted, log: (what) => faultLog.push(what) }, i);
      faultsDone++;
    }
    const lastFaultEnd = Date.now();

    // drain: every job ran, the store holds nothing of the queue, no slot is busy
    phase = 'draining';
    const drainDeadline = lastFaultEnd + options.drainTimeoutMs;
    let drainMs: number | null = null;
    let pendingAtDeadline: number | null = null;
    // Empty and idle with jobs that never ran: once that has lasted past every lease, nothing
    // can bring them back (they are lost, and counted so); waiting for the deadline would not help.
    const quietForMs = Math.max(3000, 3 * options.leaseMs);
    let quietSince: number | undefined;
    let quietRan = -1;
    while (true) {
      refreshTally();
      const counts = await storeCounts(backend, queue).catch(() => undefined);
      pendingAtDeadline = counts === undefined ? pendingAtDeadline : (counts?.pending ?? null);
      const storeEmpty = counts === null || (counts !== undefined && counts.pending === 0);
      const idle = storeEmpty && fleet.totals().busy === 0;
      if (idle && ran === submitted) {
        drainMs = Date.now() - lastFaultEnd;
        break;
      }
      if (!idle) {
        quietSince = undefined;
      } else if (quietSince === undefined || ran !== quietRan) {
        quietSince = Date.now();
        quietRan = ran;
      } else if (Date.now() - quietSince >= quietForMs) {
        drainMs = Math.max(0, quietSince - lastFaultEnd);
        break;
      }
      if (Date.now() >= drainDeadline) break;
      await sleep(POLL_MS);
    }

    // stop the workers (in-flight jobs are released), then see what the store still holds
    phase = 'checking';
    const totals = fleet.totals();
    await fleet.stop(5000);
    const after = await storeCounts(backend, queue);
    const tally = refreshTally();
    const missing = neverRan(tally, submitted);
    let inStore = new Set<number>();
    if (missing.length > 0 && (after === null || after.pending > 0)) {
      inStore = await sweepQueue(backend, queue, options.leaseMs, 2 * options.leaseMs + 5000);
    }
    const dead = after?.dead ?? null;
    const deadKnown = dead ? await deadSeqs(backend, queue) : new Set<number>();
    const lost = missing.filter((seq) => !inStore.has(seq) && !deadKnown?.has(seq));
    const twice = completedTwice(tally);
    const unconfirmed = ranUnconfirmed(tally).filter((seq) => !inStore.has(seq));
    const stuck = drainMs !== null ? 0 : (after?.pending ?? (inStore.size > 0 ? inStore.size : null));
    const result: ScenarioResult = {
      scenario: name,
      status: lost.length > 0 || twice.length > 0 || (stuck ?? 0) > 0 ? 'failed' : 'passed',
      queue,
      submitted,
      completed,
      lost: lost.length,
      lostSeqs: lost.slice(0, LISTED_SEQS),
      completedTwice: twice.length,
      completedTwiceSeqs: twice.slice(0, LISTED_SEQS),
      ...duplicateFigures(tally),
      unconfirmed: unconfirmed.length,
      stuck,
      dead,
      drainMs,
      faultsInjected: faultsDone,
      faultLog,
      leaseLost: totals.leaseLost,
      ...(faulted.size > 0 ? { leaseLostUnfaulted: fleet.leaseLostExcept(faulted) } : {}),
      workerErrors: totals.errors,
      workerStarts: fleet.starts,
      durationMs: Date.now() - started,
    };
    const notes: string[] = [];
    if (drainMs === null)
      notes.push(
        `not drained ${options.drainTimeoutMs} ms after the last fault (${pendingAtDeadline ?? '?'} jobs still pending in the store)`,
      );
    if (dead && deadKnown === null)
      notes.push(`${dead} dead job(s) the store cannot list: they are not counted as lost`);
    if (unconfirmed.length > 0)
      notes.push(
        `${unconfirmed.length} job(s) ran and left the store without a job:complete (seq ${unconfirmed.slice(0, LISTED_SEQS).join(', ')}): a worker killed between the store's ack and the event, or an ack that went through but was reported lost`,
      );
    if (stuck === null) notes.push('the store has no counts: stuck jobs cannot be told apart');
    if (notes.length > 0) result.note = notes.join('; ');
    if (result.status !== 'passed') result.stderrTail = fleet.stderr();
    return result;
  } catch (err) {
    return {
      scenario: name,
      status: 'error',
      note: err instanceof Error ? err.message : String(err),
      queue,
      submitted,
      faultsInjected: faultsDone,
      faultLog,
      durationMs: Date.now() - started,
      ...(fleet ? { stderrTail: fleet.stderr() } : {}),
    };
  } finally {
    clearInterval(ticker);
    await fleet?.stop(5000).catch(() => undefined);
    for (const proxy of proxies) await proxy.close();
    await cleanUp(backend, queue, options.leaseMs).catch(() => undefined);
  }
}

/**
 * How long faults go on: the duration asked, or longer where each fault is an outage of its
 * own (a stopped worker, a silent link) that runs one after another.
 */
function faultWindowMs(name: ScenarioName, options: ResolvedOptions): number {
  const outage = INJECTOR_OUTAGE_MS[name]?.(options) ?? 0;
  return Math.max(options.durationMs, faultsFor(name, options) * outage);
}

/**
 * Faults a scenario injects: `--faults`, halved (rounded up) where each fault is an outage of
 * three leases running back to back, so a run stays about as long as the others.
 */
export function faultsFor(name: ScenarioName, options: ResolvedOptions): number {
  return INJECTOR_OUTAGE_MS[name] ? Math.ceil(options.faults / 2) : options.faults;
}

/** Push `options.jobs` jobs, each with its sequence number and a work time sized so the load spans the fault window. */
async function pushJobs(
  backend: Backend,
  queue: string,
  options: ResolvedOptions,
  windowMs: number,
): Promise<number> {
  const client = new Client(backend);
  const slots = options.workers * options.concurrency;
  const meanWorkMs = Math.min(5000, Math.max(2, (windowMs * slots) / options.jobs));
  let pushed = 0;
  for (let from = 0; from < options.jobs; from += 500) {
    const batch = [];
    for (let seq = from; seq < Math.min(options.jobs, from + 500); seq++) {
      const payload: ChaosPayload = { seq, workMs: Math.round(meanWorkMs * (0.5 + Math.random())) };
      batch.push({ queue, payload, attempts: JOB_ATTEMPTS });
    }
    pushed += (await client.addMany(batch)).length;
  }
  return pushed;
}
