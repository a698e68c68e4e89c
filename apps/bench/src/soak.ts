/**
 * Soak: steady load through `ilkkun work` (process mode, children recycled) for a while, the
 * parent's memory sampled from its status endpoint. Run by hand (minutes, not a test):
 *
 *   pnpm soak -- --url sqlite:/tmp/soak.db --minutes 15
 *   pnpm soak -- --url 'redis://127.0.0.1:6379/12?prefix=soak' --minutes 15
 *
 * Prints one line per sample and, at the end, the growth of RSS and heap after the warm-up
 * (median of the last fifth against the median of the fifth after the warm-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, openBackend } from '@ilkkun/core';
import type { StatusSnapshot } from '@ilkkun/runner';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    minutes: { type: 'string', default: '15' },
    rate: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    'recycle-after': { type: 'string', default: '500' },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string', default: '2' },
  },
});

function positive(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number, got ${values[name]}`);
  return n;
}

const url = values.url;
if (!url) throw new Error('--url is required, e.g. --url sqlite:/tmp/soak.db');
const minutes = positive('minutes');
const rate = positive('rate');
const concurrency = positive('concurrency');
const recycleAfter = positive('recycle-after');
const sampleMs = positive('sample-seconds') * 1000;
const warmupMs = positive('warmup-minutes') * 60_000;

const cliBin = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const queue = `soak.${process.pid}`;

interface Sample {
  atMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  completed: number;
  children: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function writeConfig(dir: string): string {
  // a handler with a little real work: JSON round trips of the payload, a few allocations
  writeFileSync(
    join(dir, 'handler.mjs'),
    'export default function (job) { const s = JSON.stringify(job.payload); return { n: JSON.parse(s).n, len: s.length }; }\n',
  );
  const config = {
    url,
    handlers: { [queue]: './handler.mjs' },
    global: {
      mode: 'process',
      concurrency,
      minWorkers: concurrency,
      maxJobsPerWorker: recycleAfter,
      waitMs: 1000,
    },
  };
  const file = join(dir, 'ilkkun.config.mjs');
  writeFileSync(file, `export default ${JSON.stringify(config, null, 2)};\n`);
  return file;
}

async function status(port: number): Promise<StatusSnapshot | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as StatusSnapshot;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};
const mb = (b: number) => (b / 1048576).toFixed(1);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ilkkun-soak-'));
  const config = writeConfig(dir);
  const port = await freePort();
  const worker: ChildProcess = spawn(
    process.execPath,
    [cliBin, 'work', '--config', config, '--status-port', String(port), '--no-live'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // never leave the worker behind, whatever happens here
  process.once('exit', () => worker.kill('SIGKILL'));
  // the bench app depends on the backends it measures: resolve them from here
  const backend = await openBackend(url!, { importer: (s) => import(s) });
  const client = new Client(backend);
  const samples: Sample[] = [];
  const started = Date.now();
  const endAt = started + minutes * 60_000;
  let added = 0;
  let stopping = false;

  // the producer: `rate` jobs a second in batches of a tenth of a second
  const producer = (async () => {
    const perTick = Math.max(1, Math.round(rate / 10));
    while (!stopping && Date.now() < endAt) {
      const t = Date.now();
      await client.addMany(
        Array.from({ length: perTick }, () => ({ queue, payload: { n: added++, pad: 'x'.repeat(80) } })),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
    }
  })();

  process.stderr.write(
    `soak: ${minutes} min on ${queue}, ${rate} jobs/s, ${concurrency} children recycled every ${recycleAfter} jobs\n`,
  );
  process.stdout.write('min\trss MB\theap MB\tcompleted\tchildren\n');
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, sampleMs));
    const s = await status(port);
    if (!s) continue;
    const sample: Sample = {
      atMs: Date.now() - started,
      rssBytes: s.memory.rssBytes,
      heapUsedBytes: s.memory.heapUsedBytes,
      completed: s.totals.completed,
      children: s.groups.reduce((n, g) => n + g.workers.length, 0),
    };
    samples.push(sample);
    process.stdout.write(
      `${(sample.atMs / 60_000).toFixed(1)}\t${mb(sample.rssBytes)}\t${mb(sample.heapUsedBytes)}\t${sample.completed}\t${sample.children}\n`,
    );
  }
  stopping = true;
  await producer;
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  const counts = await backend.inspector?.counts(queue);
  await backend.inspector?.purge(queue).catch(() => 0);
  await backend.close();
  rmSync(dir, { recursive: true, force: true });

  const after = samples.filter((s) => s.atMs >= warmupMs);
  const fifth = Math.max(1, Math.floor(after.length / 5));
  const first = after.slice(0, fifth);
  const last = after.slice(-fifth);
  const growth = (pick: (s: Sample) => number) =>
    ((median(last.map(pick)) / median(first.map(pick)) - 1) * 100).toFixed(1);
  const done = samples.at(-1)?.completed ?? 0;
  process.stdout.write(
    `\nadded ${added}, completed ${done} (${(done / (minutes * 60)).toFixed(0)}/s), left ${JSON.stringify(counts)}\n` +
      `growth after ${values['warmup-minutes']} min warm-up: rss ${growth((s) => s.rssBytes)} %, heap ${growth((s) => s.heapUsedBytes)} %\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
