import type { ResolvedOptions } from './options.js';
import type { ScenarioName } from './scenarios.js';
import type { DuplicateFigures } from './tally.js';

/**
 * `passed`: nothing lost, completed twice or stuck. `failed`: at least one of those.
 * `not-applicable`: the fault cannot exist for this store (no network link to cut).
 * `skipped`: the run lacked what the scenario needs (`--restart-cmd`). `error`: the scenario
 * could not run to the end (a worker never started, the restart command failed).
 */
export type ScenarioStatus = 'passed' | 'failed' | 'not-applicable' | 'skipped' | 'error';

export interface ScenarioResult extends Partial<DuplicateFigures> {
  scenario: ScenarioName;
  status: ScenarioStatus;
  /** why not applicable / skipped / error, or what failed */
  note?: string;
  queue?: string;
  submitted?: number;
  /** distinct jobs with a `job:complete` event */
  completed?: number;
  /** not in the store after the drain and no handler run ever finished for it */
  lost?: number;
  /** sequence numbers of the lost jobs (first 20) */
  lostSeqs?: number[];
  /**
   * Jobs that ran and left the store without any `job:complete`: not lost (the handler finished
   * and the store let go of them), but the runner never confirmed them — a worker killed between
   * the ack and the event, or an ack that went through and was reported as a lost lease.
   */
  unconfirmed?: number;
  /** jobs with two or more `job:complete` events */
  completedTwice?: number;
  completedTwiceSeqs?: number[];
  /** still waiting, active or delayed in the store after the drain deadline; null = the store cannot tell */
  stuck?: number | null;
  /** in the store's dead state (none expected: jobs get 1000 attempts) */
  dead?: number | null;
  /** ms from the end of the last fault until the store was empty and every job had run; null = not drained */
  drainMs?: number | null;
  faultsInjected?: number;
  /** what each fault did, in order */
  faultLog?: string[];
  /** `lease:lost` events over all workers: late acks refused, as they must be */
  leaseLost?: number;
  /**
   * stop-worker, silent-connection: `lease:lost` events of the workers the fault did NOT hit. A
   * stalled worker must not make the others lose leases (none expected).
   */
  leaseLostUnfaulted?: number;
  /** `error` events over all workers (failed pops, heartbeats, acks) */
  workerErrors?: number;
  /** worker processes started, replacements included */
  workerStarts?: number;
  durationMs?: number;
  /** the last lines the workers wrote on stderr, when the scenario failed */
  stderrTail?: string[];
}

export interface ChaosReport {
  backend: string;
  /** with any password redacted */
  url: string;
  /** true when no scenario failed or errored, and at least one ran */
  ok: boolean;
  durationMs: number;
  settings: Omit<ResolvedOptions, 'restartCmd'> & { restartCmd?: string };
  scenarios: ScenarioResult[];
  /** where the ledgers are, when they were kept */
  ledgerDir?: string;
}

const MARK: Record<ScenarioStatus, string> = {
  passed: 'passed',
  failed: 'FAILED',
  'not-applicable': 'not applicable',
  skipped: 'skipped',
  error: 'ERROR',
};

function figure(value: number | null | undefined): string {
  if (value === undefined) return '';
  if (value === null) return '?';
  return String(value);
}

function seconds(ms: number | null | undefined): string {
  if (ms === undefined) return '';
  if (ms === null) return 'no drain';
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A plain-text table, one row per scenario, then the notes. */
export function formatChaosReport(report: ChaosReport): string {
  const head = [
    'scenario',
    'result',
    'submitted',
    'completed',
    'lost',
    'dup',
    'dup@att>1',
    'done twice',
    'stuck',
    'lease lost',
    'drain',
  ];
  const rows = report.scenarios.map((r) => [
    r.scenario,
    MARK[r.status],
    figure(r.submitted),
    figure(r.completed),
    figure(r.lost),
    figure(r.duplicated),
    figure(r.duplicatedWithNewAttempt),
    figure(r.completedTwice),
    figure(r.stuck),
    figure(r.leaseLost),
    seconds(r.drainMs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const s = report.settings;
  const notes = report.scenarios.flatMap((r) => {
    const out: string[] = [];
    if (r.note) out.push(`${r.scenario}: ${r.note}`);
    if (r.lostSeqs?.length) out.push(`${r.scenario}: lost seq ${r.lostSeqs.join(', ')}`);
    if (r.completedTwiceSeqs?.length)
      out.push(`${r.scenario}: completed twice seq ${r.completedTwiceSeqs.join(', ')}`);
    if (r.leaseLostUnfaulted)
      out.push(`${r.scenario}: ${r.leaseLostUnfaulted} lease(s) lost by workers the fault did not hit`);
    if (r.duplicatedSameAttempt)
      out.push(`${r.scenario}: ${r.duplicatedSameAttempt} job(s) ran twice under the same attempt number`);
    if (r.status === 'failed' || r.status === 'error')
      for (const l of r.stderrTail ?? []) out.push(`${r.scenario}: worker stderr: ${l}`);
    return out;
  });
  const count = (st: ScenarioStatus) => report.scenarios.filter((r) => r.status === st).length;
  return [
    `ilkkun chaos — ${report.backend} (${report.url})`,
    `${s.jobs} jobs × ${s.workers} workers × ${s.concurrency} slots, lease ${s.leaseMs} ms, ${s.faults} faults over ${s.durationMs} ms per scenario`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    ...notes,
    ...(notes.length > 0 ? [''] : []),
    `${count('passed')} passed, ${count('failed')} failed, ${count('error')} errors, ${count('not-applicable')} not applicable, ${count('skipped')} skipped in ${(report.durationMs / 1000).toFixed(1)} s — ${report.ok ? 'NOTHING LOST, NOTHING COMPLETED TWICE, NOTHING STUCK' : 'PROBLEMS FOUND'}`,
  ].join('\n');
}
