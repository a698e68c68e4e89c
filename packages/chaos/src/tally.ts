import type { LedgerLine } from './ledger.js';

/** What the ledgers say, per job sequence number. */
export interface LedgerTally {
  /** seq → attempts of every finished handler run */
  runs: Map<number, number[]>;
  /** seq → how many `job:complete` events */
  completions: Map<number, number>;
}

export function tallyLedger(lines: readonly LedgerLine[]): LedgerTally {
  const runs = new Map<number, number[]>();
  const completions = new Map<number, number>();
  for (const line of lines) {
    if (line.ev === 'ran') {
      const list = runs.get(line.seq);
      if (list) list.push(line.attempt);
      else runs.set(line.seq, [line.attempt]);
    } else if (line.ev === 'complete') {
      completions.set(line.seq, (completions.get(line.seq) ?? 0) + 1);
    }
  }
  return { runs, completions };
}

export interface DuplicateFigures {
  /** jobs whose handler finished more than once */
  duplicated: number;
  /** of those, jobs where every re-run carried a higher attempt number (the store counted each redelivery) */
  duplicatedWithNewAttempt: number;
  /** of those, jobs run twice under the same attempt number (handed out again without counting) */
  duplicatedSameAttempt: number;
  /** finished handler runs beyond the first, summed over all jobs */
  extraRuns: number;
}

export function duplicateFigures(tally: LedgerTally): DuplicateFigures {
  let duplicated = 0;
  let withNewAttempt = 0;
  let sameAttempt = 0;
  let extraRuns = 0;
  for (const attempts of tally.runs.values()) {
    if (attempts.length < 2) continue;
    duplicated++;
    extraRuns += attempts.length - 1;
    if (new Set(attempts).size === attempts.length) withNewAttempt++;
    else sameAttempt++;
  }
  return {
    duplicated,
    duplicatedWithNewAttempt: withNewAttempt,
    duplicatedSameAttempt: sameAttempt,
    extraRuns,
  };
}

/** Sequence numbers in `0..submitted-1` whose handler never finished a run. */
export function neverRan(tally: LedgerTally, submitted: number): number[] {
  const out: number[] = [];
  for (let seq = 0; seq < submitted; seq++) if (!tally.runs.has(seq)) out.push(seq);
  return out;
}

export function completedTwice(tally: LedgerTally): number[] {
  return [...tally.completions].filter(([, n]) => n > 1).map(([seq]) => seq);
}

/** Jobs whose handler finished but that never got a `job:complete` (the ack's outcome never reached the runner as a success). */
export function ranUnconfirmed(tally: LedgerTally): number[] {
  return [...tally.runs.keys()].filter((seq) => !tally.completions.has(seq));
}
