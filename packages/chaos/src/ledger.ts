import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The ledger lives outside the store under test, so the store cannot hide what happened.
 * Every process appends JSON lines to its own file with one `write(2)` per line (O_APPEND),
 * which survives a SIGKILL of the writer a moment later.
 *
 * - `ran`: a handler run finished (written by the handler itself, just before it returns)
 * - `complete`: the runner emitted `job:complete` — the store confirmed the ack
 */
export interface LedgerLine {
  ev: 'ran' | 'complete';
  /** the job's id in the store */
  id: string;
  /** the job's sequence number in this scenario (its payload's `seq`) */
  seq: number;
  /** `attemptsMade` as the handler saw it (1 = first delivery) */
  attempt: number;
  pid: number;
  /** ms since the epoch */
  t: number;
}

/** Environment variable naming the directory a worker and its handlers write ledgers to. */
export const LEDGER_DIR_ENV = 'ILKKUN_CHAOS_LEDGER_DIR';

export function appendLedger(dir: string, line: Omit<LedgerLine, 'pid' | 't'>): void {
  const full: LedgerLine = { ...line, pid: process.pid, t: Date.now() };
  appendFileSync(join(dir, `${line.ev}-${process.pid}.jsonl`), `${JSON.stringify(full)}\n`);
}

/**
 * Every line written to `dir` so far. A line cut short by a kill mid-write (only ever the
 * last one of a file) is skipped: it cannot be attributed.
 */
export function readLedger(dir: string): LedgerLine[] {
  const out: LedgerLine[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    for (const text of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (text === '') continue;
      try {
        out.push(JSON.parse(text) as LedgerLine);
      } catch {
        // a torn last line of a killed writer
      }
    }
  }
  return out;
}
