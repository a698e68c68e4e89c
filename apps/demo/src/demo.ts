import type { AddItem, Backend, StateCounts } from '@ilkkun/core';
import { Client, openBackend, redactUrl } from '@ilkkun/core';
import { attachReporter, createRunner, type ReporterKind, type Runner } from '@ilkkun/runner';

export const QUEUES = {
  mail: 'demo.send-mail',
  image: 'demo.resize-image',
  push: 'demo.push',
  report: 'demo.daily-report',
} as const;

export interface DemoOptions {
  url: string;
  /** about how many jobs to enqueue (default 200) */
  jobs?: number;
  reporter?: ReporterKind;
  stream?: NodeJS.WriteStream;
  statusPort?: number;
  /** give up (stop the pool) after this long even if not drained (default 120 s) */
  deadlineMs?: number;
}

export interface DemoSummary {
  enqueued: number;
  completed: number;
  retried: number;
  dead: number;
  elapsedMs: number;
  drained: boolean;
  counts: Record<string, StateCounts>;
}

const handler = (name: string) => new URL(`./handlers/${name}.js`, import.meta.url).href;

/** The job mix: mostly mail, some CPU-heavy image work, a flaky push gateway, a few delayed reports. */
export function demoJobs(total: number): AddItem[] {
  const jobs: AddItem[] = [];
  const n = (share: number) => Math.max(1, Math.round(total * share));
  for (let i = 0; i < n(0.5); i++) {
    jobs.push({
      queue: QUEUES.mail,
      payload: { to: `user${i}@example.com`, template: i % 10 === 0 ? 'password-reset' : 'welcome' },
      // password resets jump the queue
      ...(i % 10 === 0 ? { priority: 10 } : {}),
    });
  }
  for (let i = 0; i < n(0.2); i++) {
    jobs.push({ queue: QUEUES.image, payload: { photo: `photo-${i}.jpg`, width: 480, height: 480 } });
  }
  for (let i = 0; i < n(0.25); i++) {
    jobs.push({ queue: QUEUES.push, payload: { device: `device-${i}` }, attempts: 4, backoff: 300 });
  }
  for (let i = 0; i < n(0.05); i++) {
    jobs.push({
      queue: QUEUES.report,
      payload: { day: `2026-01-${String(i + 1).padStart(2, '0')}` },
      delay: 1_500 + i * 200,
    });
  }
  return jobs;
}

export function createDemoRunner(backend: Backend, statusPort?: number): Runner {
  return createRunner({
    backend,
    handlers: {
      [QUEUES.mail]: { handler: handler('send-mail'), settings: { concurrency: 16 } },
      [QUEUES.image]: {
        handler: handler('resize-image'),
        settings: { mode: 'process', concurrency: 3, minWorkers: 1, maxJobsPerWorker: 25, timeoutMs: 30_000 },
      },
      [QUEUES.push]: handler('flaky-push'),
      [QUEUES.report]: handler('daily-report'),
    },
    global: { concurrency: 4, waitMs: 500 },
    ...(statusPort !== undefined ? { status: { port: statusPort } } : {}),
  });
}

/** Enqueue the demo jobs, work them with a live view, return when every queue is drained. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const backend = await openBackend(options.url, { importer: (s) => import(s) });
  const queues = Object.values(QUEUES);
  try {
    // a fresh start on every run: the demo's queues are its own
    if (backend.inspector && backend.capabilities.inspect.purge) {
      for (const q of queues) await backend.inspector.purge(q);
    }
    const jobs = demoJobs(options.jobs ?? 200);
    await new Client(backend).addMany(jobs);
    const out = options.stream ?? process.stdout;
    out.write(`enqueued ${jobs.length} jobs on ${backend.name} (${redactUrl(options.url)})\n`);

    const runner = createDemoRunner(backend, options.statusPort);
    const detach = attachReporter(runner, options.reporter ?? 'auto', out);
    let drained = false;
    const done = new Promise<void>((resolve) => {
      const deadline = setTimeout(resolve, options.deadlineMs ?? 120_000);
      runner.on('pool:drain', () => {
        void pending(backend, queues).then((left) => {
          if (left > 0) return;
          drained = true;
          clearTimeout(deadline);
          resolve();
        });
      });
    });
    await runner.start();
    if (runner.statusUrl) out.write(`status: ${runner.statusUrl}/status\n`);
    await done;
    await runner.stop();
    detach();
    const totals = runner.counters();
    const counts: Record<string, StateCounts> = {};
    if (backend.inspector) for (const q of queues) counts[q] = await backend.inspector.counts(q);
    return {
      enqueued: jobs.length,
      completed: totals.completed,
      retried: totals.retried,
      dead: totals.dead,
      elapsedMs: Date.now() - started,
      drained,
      counts,
    };
  } finally {
    await backend.close();
  }
}

async function pending(backend: Backend, queues: readonly string[]): Promise<number> {
  const inspector = backend.inspector;
  if (!inspector) return 0;
  let left = 0;
  for (const q of queues) {
    const c = await inspector.counts(q);
    left += c.waiting + c.delayed + c.active;
  }
  return left;
}
