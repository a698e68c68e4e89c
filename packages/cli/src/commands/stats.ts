import { assertQueueName, JOB_STATES, type StateCounts, UnsupportedFeatureError } from '@ilkkun/core';
import Table from 'cli-table3';
import type { Command } from 'commander';
import pc from 'picocolors';
import { displayUrl, withBackend, writeOut } from '../context.js';

interface StatsOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('count jobs per state (waiting, delayed, active, completed, dead) for each queue')
    .argument('[queue...]', 'queues to show (default: every queue that holds jobs)')
    .option('--json', 'print JSON instead of a table')
    .action(async (queues: string[], options: StatsOptions, command: Command) => {
      for (const q of queues) assertQueueName(q);
      await withBackend(command, async (backend, url) => {
        const inspector = backend.inspector;
        if (!inspector || !backend.capabilities.inspect?.counts) {
          throw new UnsupportedFeatureError('inspection (queue counts)', backend.name, 'stats needs it');
        }
        const names = queues.length > 0 ? queues : (await inspector.queues()).sort();
        const rows: Array<{ queue: string; counts: StateCounts }> = [];
        for (const queue of names) rows.push({ queue, counts: await inspector.counts(queue) });

        if (options.json) {
          const out = {
            backend: backend.name,
            url: displayUrl(url),
            queues: rows.map(({ queue, counts }) => ({ queue, ...counts })),
          };
          writeOut(JSON.stringify(out, null, 2));
          return;
        }
        writeOut(pc.dim(`${backend.name} · ${displayUrl(url)}`));
        if (rows.length === 0) {
          writeOut('no queues hold jobs');
          return;
        }
        const table = new Table({
          head: ['queue', ...JOB_STATES].map((h) => pc.bold(h)),
          colAligns: ['left', ...JOB_STATES.map(() => 'right' as const)],
          style: { head: [], border: [], compact: true },
        });
        for (const { queue, counts } of rows) {
          table.push([queue, ...JOB_STATES.map((s) => format(s, counts[s] ?? 0))]);
        }
        writeOut(table.toString());
      });
    });
}

function format(state: string, n: number): string {
  const text = String(n);
  if (n === 0) return pc.dim(text);
  if (state === 'dead') return pc.red(text);
  if (state === 'active') return pc.cyan(text);
  return text;
}
