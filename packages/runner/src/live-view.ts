import type { StateCounts } from '@ilkkun/core';
import type { Runner } from './runner.js';

export interface LiveViewOptions {
  stream?: NodeJS.WriteStream;
  /** redraw interval (default 500 ms) */
  intervalMs?: number;
  /** window for the throughput figure (default 5 s) */
  windowMs?: number;
}

const CLEAR_BELOW = '\x1b[J';
const up = (n: number) => (n > 0 ? `\x1b[${n}F` : '\r');

/**
 * A few lines redrawn in place while the runner works: throughput, totals, the scoreboard and
 * per-queue counts (when the backend can count). For terminals only; see `attachLogReporter` for
 * pipes and files. Returns a function that stops it (after one last draw).
 */
export function attachLiveView(runner: Runner, options: LiveViewOptions = {}): () => void {
  const stream = options.stream ?? process.stdout;
  const windowMs = options.windowMs ?? 5_000;
  const samples: { at: number; completed: number }[] = [];
  let counts = new Map<string, StateCounts>();
  let counting = false;
  let lastLines = 0;
  let stopped = false;

  const refreshCounts = () => {
    if (counting) return;
    let inspector: Runner['backend']['inspector'];
    try {
      inspector = runner.backend.capabilities.inspect.counts ? runner.backend.inspector : undefined;
    } catch {
      return; // not started yet
    }
    if (!inspector) return;
    counting = true;
    Promise.all(runner.queues.map(async (q) => [q, await inspector.counts(q)] as const))
      .then((pairs) => {
        counts = new Map(pairs);
      })
      .catch(() => {})
      .finally(() => {
        counting = false;
      });
  };

  const draw = () => {
    const now = Date.now();
    const totals = runner.counters();
    samples.push({ at: now, completed: totals.completed });
    while (samples.length > 2 && samples[0]!.at < now - windowMs) samples.shift();
    const first = samples[0]!;
    const rate = now > first.at ? ((totals.completed - first.completed) * 1000) / (now - first.at) : 0;
    const status = runner.status();
    const lines = [
      `ilkkun runner · pid ${status.pid} · ${status.state} · up ${formatDuration(status.uptimeMs)}`,
      `throughput ${rate.toFixed(1).padStart(8)} jobs/s   completed ${totals.completed}  failed ${totals.failed}  retried ${totals.retried}  dead ${totals.dead}  released ${totals.released}`,
      `slots      ${status.scoreboard}`,
    ];
    if (counts.size > 0) {
      const width = Math.max(5, ...runner.queues.map((q) => q.length));
      lines.push(`${'queue'.padEnd(width)}  waiting  delayed  active     dead`);
      for (const q of runner.queues) {
        const c = counts.get(q);
        if (!c) continue;
        lines.push(
          `${q.padEnd(width)}  ${pad(c.waiting)}  ${pad(c.delayed)}  ${pad(c.active, 6)}  ${pad(c.dead, 7)}`,
        );
      }
    }
    stream.write(`${up(lastLines)}${CLEAR_BELOW}${lines.join('\n')}\n`);
    lastLines = lines.length;
  };

  const timer = setInterval(() => {
    refreshCounts();
    draw();
  }, options.intervalMs ?? 500);
  timer.unref();
  refreshCounts();
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    draw();
  };
}

const pad = (n: number, width = 7) => String(n).padStart(width);

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
