#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary, runDemo } from './demo.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
  options: {
    url: { type: 'string' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
    'poison-every': { type: 'string', default: '50' },
    'no-live': { type: 'boolean', default: false },
    'status-port': { type: 'string', default: '0' },
    deadline: { type: 'string', default: '120' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: node apps/demo/dist/main.js [--url sqlite:./.ilkkun/demo.db] [--requests 300] [--concurrency 8]
       [--poison-every 50] [--status-port 0] [--deadline 120] [--no-live]
Starts a worker pool and a photo-upload app on 127.0.0.1, drives a bounded load of POST /photos,
waits until every background job has settled and prints latency, throughput and the scoreboard.`);
  process.exit(0);
}

const int = (name: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
};

const DEFAULT_URL = 'sqlite:./.ilkkun/demo.db';
const url = values.url ?? process.env['ILKKUN_URL'] ?? DEFAULT_URL;
if (url === DEFAULT_URL) mkdirSync('.ilkkun', { recursive: true });

const summary = await runDemo({
  url,
  requests: int('requests', values.requests, 1, 100_000),
  concurrency: int('concurrency', values.concurrency, 1, 256),
  poisonEvery: int('poison-every', values['poison-every'], 0, 1_000_000),
  statusPort: int('status-port', values['status-port'], 0, 65_535),
  deadlineMs: int('deadline', values.deadline, 1, 3_600) * 1000,
  reporter: values['no-live'] ? 'log' : 'auto',
});
console.log(`\n${formatSummary(summary)}`);
process.exitCode = summary.ok ? 0 : 1;
