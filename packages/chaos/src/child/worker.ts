/**
 * One chaos worker: a real `@ilkkun/runner` pool on the chaos queue, in the mode the scenario
 * asks. It writes a `complete` ledger line on every `job:complete` (the store confirmed the ack)
 * and tells the orchestrator on stdout, as JSON lines, about itself: ready, the pids of its
 * handler children (the only processes the orchestrator may kill besides this one), and its
 * figures. SIGTERM stops it gracefully (in-flight jobs released).
 * Usage: node worker.js '<WorkerConfig as JSON>'
 */
import { fileURLToPath } from 'node:url';
import { createRunner } from '@ilkkun/runner';
import { appendLedger, LEDGER_DIR_ENV } from '../ledger.js';
import type { WorkerConfig, WorkerMessage } from '../worker-protocol.js';
import type { ChaosPayload } from './handler.js';

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const dir = process.env[LEDGER_DIR_ENV];
if (!dir || !config.url || !config.queue) {
  process.stderr.write(`usage: worker.js '<config JSON>' with ${LEDGER_DIR_ENV} set\n`);
  process.exit(2);
}

const send = (msg: WorkerMessage) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const handler = fileURLToPath(new URL('./handler.js', import.meta.url));
const runner = createRunner({
  backend: config.url,
  handlers: { [config.queue]: handler },
  global: {
    mode: config.mode,
    concurrency: config.concurrency,
    minWorkers: config.mode === 'process' ? config.concurrency : 1,
    leaseMs: config.leaseMs,
    // short waits and retry delays: a scenario lasts seconds, not minutes
    waitMs: Math.min(1000, config.leaseMs),
    backoff: { type: 'fixed', delayMs: 50 },
    killGraceMs: 500,
  },
  graceMs: 1000,
  handleSignals: true,
});

let leaseLost = 0;
let errors = 0;
let completed = 0;
runner.on('job:complete', ({ job }) => {
  completed++;
  const payload = job.payload as ChaosPayload;
  appendLedger(dir, { ev: 'complete', id: job.id, seq: payload.seq, attempt: job.attemptsMade });
});
runner.on('lease:lost', () => {
  leaseLost++;
});
runner.on('error', ({ error, context }) => {
  errors++;
  // the orchestrator keeps the last lines of stderr for its report
  process.stderr.write(`${context}: ${error.message}\n`);
});
runner.on('worker:start', ({ worker }) => {
  if (worker.pid !== process.pid) send({ child: worker.pid, up: true });
});
runner.on('worker:stop', ({ worker }) => {
  if (worker.pid !== process.pid) send({ child: worker.pid, up: false });
});

// The orchestrator holds our stdin: if it dies without stopping us, stop on our own.
process.stdin.on('end', () => void runner.stop().finally(() => process.exit(0)));
process.stdin.resume();

await runner.start();
send({ ready: true, pid: process.pid });
const report = setInterval(() => send({ stats: { busy: runner.busy, leaseLost, errors, completed } }), 200);
report.unref();
await runner.stopped;
send({ stats: { busy: 0, leaseLost, errors, completed } });
