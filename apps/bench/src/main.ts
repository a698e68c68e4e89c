#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, runBench, toJson, WORKLOADS, type Workload } from './bench.js';
import { Progress } from './progress.js';
import { RIVALS } from './rivals/index.js';

// `pnpm bench -- --url …` hands the `--` through: drop it
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();

const { values } = parseArgs({
  args: argv,
  options: {
    url: { type: 'string', default: 'memory:' },
    rival: { type: 'string', multiple: true },
    'rival-url': { type: 'string' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    json: { type: 'string' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    'enqueue-jobs': { type: 'string', default: '2000' },
    'bulk-jobs': { type: 'string', default: '10000' },
    batch: { type: 'string', default: '1000' },
    'process-jobs': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,16,64' },
    'latency-jobs': { type: 'string', default: '200' },
    'latency-rate': { type: 'string', default: '100' },
    'latency-concurrency': { type: 'string', default: '16' },
    timeout: { type: 'string', default: '120' },
    'add-latency-ms': { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: pnpm bench -- --url <backend-url> [--rival <name>]... [--runs 3] [--json <file>]

  --url URL              ilkkun backend to measure (default memory:), e.g. sqlite:./.ilkkun/bench.db,
                         redis://127.0.0.1:6379/11?prefix=bench
  --rival NAME           also measure a rival, same workloads, same run (repeatable):
${Object.values(RIVALS)
  .map((r) => `                           ${r.name.padEnd(10)} ${r.description}`)
  .join('\n')}
  --rival-url URL        where rivals keep their jobs (default: each rival's own — redis://127.0.0.1:6379/10
                         for the Redis ones, sqs://127.0.0.1:4566?region=us-east-1&tls=false for the
                         SQS ones); each run uses keys/queues of its own and deletes only those
  --runs N               repetitions; medians and min–max are reported (default 3)
  --warmup N             untimed rounds first, so every system starts warm (default 1; 0 = none)
  --json FILE            write { "results": [...] } to FILE
  --workloads LIST       subset of ${WORKLOADS.join(',')}
  --enqueue-jobs N       jobs added one by one per run (2000)
  --bulk-jobs N          jobs added in bulk per run (10000), --batch N per call (1000)
  --process-jobs N       jobs drained per run and concurrency (5000), --concurrency LIST (1,16,64)
  --latency-jobs N       jobs per latency run (200) at --latency-rate N per second (100),
                         consumer --latency-concurrency N (16)
  --timeout S            a measurement not done after S seconds fails the run (120)
  --add-latency-ms N     every system talks to its (loopback) server through a proxy adding N ms per
                         round trip, as a store in another zone or a managed service would (0)`);
  process.exit(0);
}

const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return n;
};
const nonNegativeInt = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number ≥ 0`);
    process.exit(2);
  }
  return n;
};
const nonNegative = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1000) {
    console.error(`--${name} must be a number of milliseconds between 0 and 1000`);
    process.exit(2);
  }
  return n;
};
const workloads = values.workloads.split(',').map((w) => w.trim());
for (const w of workloads) {
  if (!(WORKLOADS as readonly string[]).includes(w)) {
    console.error(`unknown workload "${w}"; known: ${WORKLOADS.join(', ')}`);
    process.exit(2);
  }
}
for (const r of values.rival ?? []) {
  if (!RIVALS[r]) {
    console.error(`unknown rival "${r}"; known: ${Object.keys(RIVALS).join(', ')}`);
    process.exit(2);
  }
}

const run = await runBench({
  url: values.url,
  rivals: values.rival ?? [],
  ...(values['rival-url'] !== undefined ? { rivalUrl: values['rival-url'] } : {}),
  runs: positive('runs', values.runs),
  warmupRuns: nonNegativeInt('warmup', values.warmup),
  workloads: workloads as Workload[],
  enqueueJobs: positive('enqueue-jobs', values['enqueue-jobs']),
  bulkJobs: positive('bulk-jobs', values['bulk-jobs']),
  batch: positive('batch', values.batch),
  processJobs: positive('process-jobs', values['process-jobs']),
  concurrencies: values.concurrency.split(',').map((c) => positive('concurrency', c.trim())),
  latencyJobs: positive('latency-jobs', values['latency-jobs']),
  latencyRate: positive('latency-rate', values['latency-rate']),
  latencyConcurrency: positive('latency-concurrency', values['latency-concurrency']),
  timeoutMs: positive('timeout', values.timeout) * 1000,
  addLatencyMs: nonNegative('add-latency-ms', values['add-latency-ms']),
  progress: new Progress(process.stderr),
});
console.log(`\n${formatTable(run)}`);
if (values.json !== undefined) {
  const out = resolve(values.json);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, toJson(run));
  console.log(`\nwrote ${out}`);
}
// ioredis/bullmq may keep sockets half-open for a moment after close: the run is over
process.exit(0);
