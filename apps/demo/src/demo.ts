import type { Backend, StateCounts } from '@ilkkun/core';
import { Client, openBackend, redactUrl } from '@ilkkun/core';
import {
  attachLiveView,
  attachLogReporter,
  createRunner,
  type Runner,
  type StatusSnapshot,
} from '@ilkkun/runner';
import { percentile, runLoadInWorker } from './load.js';
import {
  ALL_QUEUES,
  type DemoQueue,
  type EnqueuedJob,
  type PhotoApp,
  QUEUES,
  startPhotoApp,
} from './photos.js';

export { ALL_QUEUES, QUEUES, uploadFor } from './photos.js';

export type DemoReporter = 'auto' | 'live' | 'log' | 'none';

export interface DemoOptions {
  /** backend URL (the demo's default is `sqlite:./.ilkkun/demo.db`) */
  url: string;
  /** POST /photos requests in all (default 300) */
  requests?: number;
  /** requests in flight at once (default 8) */
  concurrency?: number;
  /** one upload in this many carries a revoked push token: its push job ends in `dead` (default 50) */
  poisonEvery?: number;
  /** progress: the runner's live view on a terminal, plain lines otherwise (`auto`, the default) */
  reporter?: DemoReporter;
  stream?: NodeJS.WritableStream;
  /** status server port on 127.0.0.1 (default 0: any free port) */
  statusPort?: number;
  /** give up waiting for the queues to drain after this long (default 120 s) */
  deadlineMs?: number;
  /** recycle an image child after this many jobs (default 30, seed 002's max_request_per_child) */
  maxJobsPerWorker?: number;
}

export interface QueueTally {
  enqueued: number;
  completed: number;
  dead: number;
  /** failed attempts that were scheduled again with backoff */
  retried: number;
}

export interface DemoSummary {
  /** every request answered 201, every non-poison job completed exactly once, every poison job dead */
  ok: boolean;
  problems: string[];
  drained: boolean;
  url: string;
  appUrl: string;
  statusUrl: string;
  requests: {
    total: number;
    statuses: Record<number, number>;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    elapsedMs: number;
  };
  jobs: QueueTally & { elapsedMs: number; perSecond: number };
  perQueue: Record<DemoQueue, QueueTally>;
  /** the store's own counts per queue at the end */
  store: Partial<Record<DemoQueue, StateCounts>>;
  poisonJobIds: string[];
  /** job ids completed more than once, enqueued but never settled, or dead without being poison */
  duplicates: string[];
  missing: string[];
  unexpectedDead: string[];
  workers: { started: number; recycled: number; idleStopped: number; crashed: number; mostAlive: number };
  /** GET /scoreboard of the runner's status server, at the end */
  scoreboard: string;
  /** GET /status of the runner's status server, at the end */
  status: StatusSnapshot;
}

const handler = (name: string) => new URL(`./handlers/${name}.js`, import.meta.url).href;

/**
 * Seed 002's worker pool (Qudo::Parallel::Manager with max_workers 3, min_spare_workers 1,
 * max_request_per_child 30): crop and thumbnail share child processes, recycled every 30 jobs;
 * push notifications wait on I/O, so they run inline with 16 slots.
 */
export function createDemoRunner(backend: Backend, statusPort = 0, maxJobsPerWorker = 30): Runner {
  return createRunner({
    backend,
    handlers: {
      [QUEUES.crop]: handler('crop'),
      [QUEUES.thumbnail]: handler('thumbnail'),
      [QUEUES.notify]: { handler: handler('notify'), settings: { mode: 'inline', concurrency: 16 } },
    },
    global: {
      mode: 'process',
      concurrency: 3,
      minWorkers: 1,
      maxJobsPerWorker,
      workerIdleMs: 2_000,
      waitMs: 1_000,
      timeoutMs: 30_000,
    },
    status: { port: statusPort },
  });
}

/**
 * The seed 002 story end to end: start a worker pool and the photo app, drive a bounded load of
 * uploads against the app over HTTP, wait until every job has settled, and report.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const out = options.stream ?? process.stdout;
  const requests = options.requests ?? 300;
  const concurrency = options.concurrency ?? 8;
  const poisonEvery = options.poisonEvery ?? 50;
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  const backend = await openBackend(options.url, { importer: (s) => import(s) });
  let runner: Runner | undefined;
  let app: PhotoApp | undefined;
  let detach: () => void = () => {};
  try {
    // a fresh start on every run: these queues are the demo's own
    if (backend.inspector && backend.capabilities.inspect.purge) {
      for (const q of ALL_QUEUES) await backend.inspector.purge(q);
    }

    // what the app enqueued, and what became of each job
    const enqueued = new Map<string, EnqueuedJob & { poison: boolean }>();
    const completions = new Map<string, number>();
    const deadIds = new Set<string>();
    const perQueue = Object.fromEntries(
      ALL_QUEUES.map((q) => [q, { enqueued: 0, completed: 0, dead: 0, retried: 0 }]),
    ) as Record<DemoQueue, QueueTally>;
    const workers = { started: 0, recycled: 0, idleStopped: 0, crashed: 0, mostAlive: 0 };
    let alive = 0;

    runner = createDemoRunner(backend, options.statusPort ?? 0, options.maxJobsPerWorker ?? 30);
    const tally = (queue: string) => perQueue[queue as DemoQueue];
    runner.on('job:complete', ({ job }) => {
      completions.set(job.id, (completions.get(job.id) ?? 0) + 1);
      const t = tally(job.queue);
      if (t) t.completed++;
      const photoId = (job.payload as { photoId?: string }).photoId;
      const photo = photoId ? app?.photos.get(photoId) : undefined;
      if (photo) photo.done[job.queue as DemoQueue] = 'completed';
    });
    runner.on('job:dead', ({ job }) => {
      deadIds.add(job.id);
      const t = tally(job.queue);
      if (t) t.dead++;
      const photoId = (job.payload as { photoId?: string }).photoId;
      const photo = photoId ? app?.photos.get(photoId) : undefined;
      if (photo) photo.done[job.queue as DemoQueue] = 'dead';
    });
    runner.on('job:retry', ({ job }) => {
      const t = tally(job.queue);
      if (t) t.retried++;
    });
    runner.on('worker:start', ({ worker }) => {
      if (worker.pid === process.pid) return;
      workers.started++;
      workers.mostAlive = Math.max(workers.mostAlive, ++alive);
    });
    runner.on('worker:stop', ({ worker, reason }) => {
      if (worker.pid === process.pid) return;
      alive--;
      if (reason === 'recycle') workers.recycled++;
      if (reason === 'idle') workers.idleStopped++;
      if (reason === 'crash') workers.crashed++;
    });

    await runner.start();
    const client = new Client(backend);
    app = await startPhotoApp({
      client,
      onEnqueued: (jobs) => {
        for (const job of jobs) {
          const photo = app?.photos.get(job.photoId);
          const poison = job.queue === QUEUES.notify && (photo?.device?.startsWith('revoked-') ?? false);
          enqueued.set(job.id, { ...job, poison });
          perQueue[job.queue].enqueued++;
        }
      },
    });
    const statusUrl = runner.statusUrl!;
    out.write(
      `ilkkun demo: seed 002, "answer the upload at once, do the rest in the background"\n` +
        `  store   ${redactUrl(options.url)} (${backend.name}, no server)\n` +
        `  app     POST ${app.url}/photos\n` +
        `  status  ${statusUrl}/status\n` +
        `  load    ${requests} uploads, ${concurrency} at a time; each enqueues ${ALL_QUEUES.join(', ')}\n\n`,
    );

    // progress: the runner's live view on a terminal, plain lines otherwise
    const kind =
      options.reporter === undefined || options.reporter === 'auto'
        ? (out as NodeJS.WriteStream).isTTY
          ? 'live'
          : 'log'
        : options.reporter;
    let answered = 0;
    const loadStarted = performance.now();
    if (kind === 'live') {
      detach = attachLiveView(runner, { stream: out as NodeJS.WriteStream });
    } else if (kind === 'log') {
      const offLog = attachLogReporter(runner, { stream: out, completions: false });
      const r = runner;
      const ticker = setInterval(() => {
        const t = r.counters();
        out.write(
          `${new Date().toISOString()} progress requests ${answered}/${requests} · jobs completed ${t.completed} of ${enqueued.size} enqueued · retried ${t.retried} · dead ${t.dead} · slots ${r.scoreboard()}\n`,
        );
      }, 1_000);
      ticker.unref();
      detach = () => {
        clearInterval(ticker);
        offLog();
      };
    }

    // the clients run in a worker thread: their fetch work does not share the app's event loop
    const load = await runLoadInWorker({
      url: `${app.url}/photos`,
      requests,
      concurrency,
      poisonEvery,
      onAnswer: (n) => {
        answered = n;
      },
    });

    // drained: every job the app enqueued has settled (completed or dead) and the store agrees
    const settled = () => [...enqueued.keys()].every((id) => completions.has(id) || deadIds.has(id));
    let drained = false;
    while (Date.now() < deadline) {
      if (settled() && (await pendingIn(backend)) === 0) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const jobsElapsedMs = performance.now() - loadStarted;

    // the scoreboard as an operator sees it: over HTTP from the status server
    const status = (await (await fetch(`${statusUrl}/status`)).json()) as StatusSnapshot;
    const scoreboard = (await (await fetch(`${statusUrl}/scoreboard`)).text()).trim();

    detach();
    detach = () => {};
    await runner.stop();
    const store: Partial<Record<DemoQueue, StateCounts>> = {};
    if (backend.inspector && backend.capabilities.inspect.counts) {
      for (const q of ALL_QUEUES) store[q] = await backend.inspector.counts(q);
    }

    const duplicates = [...completions].filter(([, n]) => n > 1).map(([id]) => id);
    const missing = [...enqueued.keys()].filter((id) => !completions.has(id) && !deadIds.has(id));
    const poisonJobIds = [...enqueued.values()].filter((j) => j.poison).map((j) => j.id);
    const unexpectedDead = [...deadIds].filter((id) => !enqueued.get(id)?.poison);
    const poisonCompleted = poisonJobIds.filter((id) => completions.has(id));
    const problems: string[] = [];
    const created = load.statuses[201] ?? 0;
    if (created !== requests) {
      problems.push(
        `${requests - created} of ${requests} requests not answered 201 (${JSON.stringify(load.statuses)}${load.errors.length ? `; ${load.errors[0]}` : ''})`,
      );
    }
    if (!drained) problems.push('the queues did not drain before the deadline');
    if (duplicates.length) problems.push(`${duplicates.length} jobs completed more than once`);
    if (missing.length) problems.push(`${missing.length} jobs neither completed nor dead`);
    if (unexpectedDead.length) problems.push(`${unexpectedDead.length} non-poison jobs dead`);
    if (poisonCompleted.length) problems.push(`${poisonCompleted.length} poison jobs completed`);
    for (const [q, c] of Object.entries(store)) {
      if (c && c.waiting + c.delayed + c.active > 0) problems.push(`${q} still holds unfinished jobs`);
    }

    const totals = Object.values(perQueue).reduce(
      (a, t) => ({
        enqueued: a.enqueued + t.enqueued,
        completed: a.completed + t.completed,
        dead: a.dead + t.dead,
        retried: a.retried + t.retried,
      }),
      { enqueued: 0, completed: 0, dead: 0, retried: 0 },
    );
    return {
      ok: problems.length === 0,
      problems,
      drained,
      url: redactUrl(options.url),
      appUrl: app.url,
      statusUrl,
      requests: {
        total: load.latenciesMs.length,
        statuses: load.statuses,
        p50Ms: percentile(load.latenciesMs, 50),
        p99Ms: percentile(load.latenciesMs, 99),
        maxMs: percentile(load.latenciesMs, 100),
        elapsedMs: load.elapsedMs,
      },
      jobs: {
        ...totals,
        elapsedMs: jobsElapsedMs,
        perSecond: ((totals.completed + totals.dead) * 1000) / jobsElapsedMs,
      },
      perQueue,
      store,
      poisonJobIds,
      duplicates,
      missing,
      unexpectedDead,
      workers,
      scoreboard,
      status,
    };
  } finally {
    detach();
    await runner?.stop();
    await app?.close();
    await backend.close();
  }
}

async function pendingIn(backend: Backend): Promise<number> {
  const inspector = backend.inspector;
  if (!inspector || !backend.capabilities.inspect.counts) return 0;
  let left = 0;
  for (const q of ALL_QUEUES) {
    const c = await inspector.counts(q);
    left += c.waiting + c.delayed + c.active;
  }
  return left;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '-');

/** The closing report, plain text. */
export function formatSummary(s: DemoSummary): string {
  const r = s.requests;
  const lines: string[] = [];
  const statusText = Object.entries(r.statuses)
    .map(([code, n]) => `${code === '0' ? 'no answer' : code}: ${n}`)
    .join(', ');
  lines.push(
    `requests  ${r.total} × POST /photos in ${(r.elapsedMs / 1000).toFixed(2)} s (${((r.total * 1000) / r.elapsedMs).toFixed(0)} req/s) · ${statusText}`,
    `latency   p50 ${ms(r.p50Ms)} · p99 ${ms(r.p99Ms)} · max ${ms(r.maxMs)}  (answered at once; the work runs behind)`,
    `jobs      ${s.jobs.completed + s.jobs.dead} settled in ${(s.jobs.elapsedMs / 1000).toFixed(2)} s → ${s.jobs.perSecond.toFixed(0)} jobs/s · completed ${s.jobs.completed} · dead ${s.jobs.dead} · retries ${s.jobs.retried}`,
    '',
    `queue             enqueued  completed  dead  retries  | store: waiting delayed active dead`,
  );
  for (const q of ALL_QUEUES) {
    const t = s.perQueue[q];
    const c = s.store[q];
    lines.push(
      `${q.padEnd(16)}  ${String(t.enqueued).padStart(8)}  ${String(t.completed).padStart(9)}  ${String(t.dead).padStart(4)}  ${String(t.retried).padStart(7)}  | ${
        c
          ? `${String(c.waiting).padStart(14)} ${String(c.delayed).padStart(7)} ${String(c.active).padStart(6)} ${String(c.dead).padStart(4)}`
          : '(no inspector)'
      }`,
    );
  }
  const st = s.status;
  const t = st.totals;
  lines.push(
    '',
    `scoreboard ${s.scoreboard}   (GET ${s.statusUrl}/scoreboard)`,
    `/status   pid ${st.pid} · ${st.state} · up ${(st.uptimeMs / 1000).toFixed(1)} s · ${st.busy}/${st.size} busy · started ${t.started} · completed ${t.completed} · failed ${t.failed} · retried ${t.retried} · dead ${t.dead} · released ${t.released} · lease lost ${t.leaseLost}`,
  );
  for (const g of st.groups) {
    const jobsDone = g.slots.reduce((n, slot) => n + slot.jobsDone, 0);
    const children =
      g.mode === 'process'
        ? ` · children now ${g.workers.map((w) => `pid ${w.pid} (${w.jobsDone} jobs${w.rssBytes ? `, ${Math.round(w.rssBytes / 2 ** 20)} MB` : ''})`).join(', ') || 'none'}`
        : '';
    lines.push(
      `  ${g.mode.padEnd(7)} ${g.queues.join(' + ')}: ${g.slots.length} slots, ${jobsDone} jobs run${children}`,
    );
  }
  lines.push(
    `children  ${s.workers.started} started, at most ${s.workers.mostAlive} at once · ${s.workers.recycled} recycled after maxJobsPerWorker · ${s.workers.idleStopped} stopped when idle · ${s.workers.crashed} crashed`,
    '',
    s.ok
      ? `OK: all ${r.total} uploads answered 201; every job completed exactly once, except the ${s.poisonJobIds.length} poison push jobs, which are dead (kept for inspection: ilkkun stats)`
      : `FAILED: ${s.problems.join('; ')}`,
  );
  return lines.join('\n');
}
