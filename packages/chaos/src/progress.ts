import type { ChaosProgress } from './options.js';

export interface ProgressPrinter {
  update(p: ChaosProgress): void;
  /** end the live line (call before printing anything else) */
  done(): void;
}

/** How often a non-terminal gets a plain progress line. */
const PLAIN_EVERY_MS = 2000;

function describe(p: ChaosProgress): string {
  return (
    `${p.scenario}: ${p.phase} — ran ${p.ran}/${p.submitted}, completed ${p.completed}, ` +
    `faults ${p.faultsDone}/${p.faultsPlanned}, workers ${p.workersAlive}, ${(p.elapsedMs / 1000).toFixed(1)} s`
  );
}

/**
 * A progress display: on a terminal, one line rewritten in place; elsewhere (CI logs, a pipe)
 * a plain line every 2 s and one per phase change, so logs stay readable.
 */
export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  let live = false;
  let lastPlain = 0;
  let lastKey = '';
  return {
    update(p) {
      if (stream.isTTY) {
        const width = Math.max(20, (stream.columns ?? 100) - 1);
        stream.write(`\r\x1b[2K${describe(p).slice(0, width)}`);
        live = true;
        return;
      }
      const key = `${p.scenario}/${p.phase}`;
      if (key !== lastKey || Date.now() - lastPlain >= PLAIN_EVERY_MS) {
        stream.write(`${describe(p)}\n`);
        lastPlain = Date.now();
        lastKey = key;
      }
    },
    done() {
      if (live) stream.write('\r\x1b[2K');
      live = false;
    },
  };
}
