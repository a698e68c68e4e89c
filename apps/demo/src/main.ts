#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    jobs: { type: 'string', default: '200' },
    'no-live': { type: 'boolean', default: false },
    'status-port': { type: 'string' },
  },
});

const DEFAULT_URL = 'sqlite:./.ilkkun/demo.db';
const url = values.url ?? process.env['ILKKUN_URL'] ?? DEFAULT_URL;
if (url === DEFAULT_URL) mkdirSync('.ilkkun', { recursive: true });

const summary = await runDemo({
  url,
  jobs: Number(values.jobs),
  reporter: values['no-live'] ? 'log' : 'auto',
  ...(values['status-port'] !== undefined ? { statusPort: Number(values['status-port']) } : {}),
});

console.log(
  `\n${summary.drained ? 'drained' : 'stopped at the deadline'} in ${(summary.elapsedMs / 1000).toFixed(1)} s: ` +
    `${summary.enqueued} enqueued, ${summary.completed} completed, ${summary.retried} retries, ${summary.dead} dead`,
);
for (const [queue, c] of Object.entries(summary.counts)) {
  console.log(
    `  ${queue.padEnd(20)} waiting ${c.waiting}  delayed ${c.delayed}  active ${c.active}  dead ${c.dead}`,
  );
}
process.exitCode = summary.drained ? 0 : 1;
