#!/usr/bin/env node
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, runBench } from './bench.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', multiple: true },
    runs: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1,16,64' },
    pickup: { type: 'string', default: '200' },
    out: { type: 'string', default: '.ilkkun/bench.json' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: node apps/bench/dist/main.js [--url URL]... [--runs 3] [--jobs 2000] [--concurrency 1,16,64] [--pickup 200] [--out .ilkkun/bench.json]
default URLs: memory: and a temporary sqlite file`);
  process.exit(0);
}

const tempDb = join(tmpdir(), `ilkkun-bench-${process.pid}.db`);
const urls = values.url ?? ['memory:', `sqlite:${tempDb}`];
const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};

try {
  const report = await runBench({
    urls,
    runs: positive('runs', values.runs),
    jobs: positive('jobs', values.jobs),
    concurrencies: values.concurrency.split(',').map((c) => positive('concurrency', c.trim())),
    pickupJobs: positive('pickup', values.pickup),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(`\n${formatTable(report)}`);
  const out = resolve(values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
} finally {
  for (const suffix of ['', '-wal', '-shm']) rmSync(tempDb + suffix, { force: true });
}
