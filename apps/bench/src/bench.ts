import { cpus } from 'node:os';
import { openIlkkun } from './ilkkun.js';
import { type LatencyProxy, proxyUrl } from './latency-proxy.js';
import { Progress } from './progress.js';
import { rival } from './rivals/index.js';
import { median, percentile, round } from './stats.js';
import type { BenchSystem, Measured } from './system.js';

export type Workload = 'enqueue' | 'enqueue-bulk' | 'process' | 'latency';
export const WORKLOADS: readonly Workload[] = ['enqueue', 'enqueue-bulk', 'process', 'latency'];

export interface BenchOptions {
  /** the ilkkun backend to measure */
  url: string;
  /** rivals to measure beside it, by name (`rivals/index.ts`) */
  rivals?: readonly string[];
  /** where the rivals store their jobs (default: each rival's default, redis://127.0.0.1:6379/10) */
  rivalUrl?: string;
  /** repetitions of every measurement (default 3) */
  runs?: number;
  /** untimed rounds before them, so JIT, sockets and server caches are warm for every system (default 1) */
  warmupRuns?: number;
  workloads?: readonly Workload[];
  /** `enqueue`: jobs added one by one per run (default 2 000) */
  enqueueJobs?: number;
  /** `enqueue-bulk`: jobs per run (default 10 000), in calls of `batch` (default 1 000) */
  bulkJobs?: number;
  batch?: number;
  /** `process`: jobs drained per run (default 5 000) at each concurrency (default 1, 16, 64) */
  processJobs?: number;
  concurrencies?: readonly number[];
  /** `latency`: jobs per run (default 200) at `latencyRate` per second (default 100), consumer concurrency (default 16) */
  latencyJobs?: number;
  latencyRate?: number;
  latencyConcurrency?: number;
  /** a consumer that has not finished one measurement after this long fails the run (default 120 s) */
  timeoutMs?: number;
  /** every system reaches its server through a loopback proxy adding this much per round trip (default 0) */
  addLatencyMs?: number;
  progress?: Progress;
}

/** One line of the JSON file: exactly the documented shape. */
export interface ResultLine {
  system: string;
  url: string;
  workload: Workload;
  concurrency: number;
  jobsPerSec: { median: number; min: number; max: number };
  /**
   * `enqueue`: ms per add call; `enqueue-bulk`: ms per batch call; `latency`: ms from the add
   * call to the handler's start. `process` has no per-job latency: `null`.
   */
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /**
   * On a rival's line: ilkkun's jobs/s divided by the rival's, taken per run (the two ran back to
   * back) and then summarised — steadier than a ratio of medians on a machine whose speed drifts.
   */
  ratio?: { median: number; min: number; max: number };
}

export interface BenchReport {
  results: ResultLine[];
}

export interface BenchRun extends BenchReport {
  /** the ilkkun system's label; every other system is a rival */
  ilkkun: string;
  meta: {
    runs: number;
    node: string;
    cpus: number;
    cpu: string;
    date: string;
    sizes: string;
    /** added per round trip by the loopback proxy (0 = none) */
    addedLatencyMs: number;
  };
}

interface Step {
  workload: Workload;
  concurrency: number;
  /** jobs in one measurement (for progress) */
  jobs: number;
  measure(system: BenchSystem, tick: (done: number) => void): Promise<Measured>;
}

/**
 * Every workload on ilkkun and on each rival, `runs` times. Within a run the systems take turns
 * on each workload (their order alternating between runs), so drift hits all of them alike.
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const runs = options.runs ?? 3;
  const workloads = options.workloads ?? WORKLOADS;
  const enqueueJobs = options.enqueueJobs ?? 2_000;
  const bulkJobs = options.bulkJobs ?? 10_000;
  const batch = options.batch ?? 1_000;
  const processJobs = options.processJobs ?? 5_000;
  const concurrencies = options.concurrencies ?? [1, 16, 64];
  const latencyJobs = options.latencyJobs ?? 200;
  const latencyRate = options.latencyRate ?? 100;
  const latencyConcurrency = options.latencyConcurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const progress = options.progress ?? new Progress(undefined);

  const steps: Step[] = [];
  if (workloads.includes('enqueue')) {
    steps.push({
      workload: 'enqueue',
      concurrency: 1,
      jobs: enqueueJobs,
      measure: (s, tick) => s.enqueueOne(enqueueJobs, tick),
    });
  }
  if (workloads.includes('enqueue-bulk')) {
    steps.push({
      workload: 'enqueue-bulk',
      concurrency: 1,
      jobs: bulkJobs,
      measure: (s, tick) => s.enqueueBulk(bulkJobs, batch, tick),
    });
  }
  if (workloads.includes('process')) {
    for (const c of concurrencies) {
      steps.push({
        workload: 'process',
        concurrency: c,
        jobs: processJobs,
        measure: (s, tick) => s.process(processJobs, c, tick),
      });
    }
  }
  if (workloads.includes('latency')) {
    steps.push({
      workload: 'latency',
      concurrency: latencyConcurrency,
      jobs: latencyJobs,
      measure: (s, tick) => s.latency(latencyJobs, latencyRate, latencyConcurrency, tick),
    });
  }

  const systems: BenchSystem[] = [];
  const addedLatencyMs = options.addLatencyMs ?? 0;
  const proxies: LatencyProxy[] = [];
  /** the URL a system is opened on: through a latency proxy when one is asked for */
  const via = async (url: string): Promise<string> => {
    if (addedLatencyMs <= 0) return url;
    const proxy = await proxyUrl(url, addedLatencyMs);
    proxies.push(proxy);
    return proxy.url;
  };
  try {
    systems.push(await openIlkkun(await via(options.url), timeoutMs));
    for (const name of options.rivals ?? []) {
      const plugin = rival(name);
      systems.push(await plugin.open(await via(options.rivalUrl ?? plugin.defaultUrl), { timeoutMs }));
    }
    // samples[step][system]
    const samples = steps.map(() =>
      systems.map(() => ({ rates: [] as number[], latencies: [] as number[] })),
    );
    const warmups = options.warmupRuns ?? 1;
    for (let run = -warmups; run < runs; run++) {
      const order = run % 2 === 0 ? systems : [...systems].reverse();
      for (const [k, step] of steps.entries()) {
        for (const system of order) {
          const round = run < 0 ? 'warm-up' : `run ${run + 1}/${runs}`;
          const label = `[${round}] ${step.workload}${step.workload === 'process' ? ` c=${step.concurrency}` : ''} · ${system.system}`;
          progress.begin(label);
          const m = await step.measure(system, (done) => progress.tick(done, step.jobs));
          const rate = m.jobs / m.seconds;
          if (run < 0) {
            progress.end(`${Math.round(rate).toLocaleString('en-US')} jobs/s (not counted)`);
            continue;
          }
          const sample = samples[k]![systems.indexOf(system)]!;
          sample.rates.push(rate);
          sample.latencies.push(...m.latenciesMs);
          progress.end(
            `${Math.round(rate).toLocaleString('en-US')} jobs/s` +
              (m.latenciesMs.length ? ` · p50 ${percentile(m.latenciesMs, 50).toFixed(2)} ms` : ''),
          );
        }
      }
    }
    const results: ResultLine[] = [];
    for (const [k, step] of steps.entries()) {
      const own = samples[k]![0]!.rates;
      for (const [j, system] of systems.entries()) {
        const { rates, latencies } = samples[k]![j]!;
        const ratios = j === 0 ? [] : rates.map((r, run) => own[run]! / r);
        results.push({
          system: system.system,
          url: system.url,
          workload: step.workload,
          concurrency: step.concurrency,
          jobsPerSec: {
            median: round(median(rates)),
            min: round(Math.min(...rates)),
            max: round(Math.max(...rates)),
          },
          latencyMs:
            latencies.length === 0
              ? null
              : {
                  p50: round(percentile(latencies, 50)),
                  p95: round(percentile(latencies, 95)),
                  p99: round(percentile(latencies, 99)),
                },
          ...(ratios.length > 0
            ? {
                ratio: {
                  median: round(median(ratios)),
                  min: round(Math.min(...ratios)),
                  max: round(Math.max(...ratios)),
                },
              }
            : {}),
        });
      }
    }
    return {
      results,
      ilkkun: systems[0]!.system,
      meta: {
        runs,
        node: process.version,
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        date: new Date().toISOString(),
        sizes:
          `enqueue ${enqueueJobs} · enqueue-bulk ${bulkJobs} in batches of ${batch} · process ${processJobs} ` +
          `at c=${concurrencies.join('/')} · latency ${latencyJobs} at ${latencyRate}/s, c=${latencyConcurrency}`,
        addedLatencyMs,
      },
    };
  } finally {
    for (const s of systems) {
      await s
        .close()
        .catch((err: unknown) => progress.note(`closing ${s.system}: ${(err as Error).message}`));
    }
    for (const p of proxies) await p.close();
  }
}

const fmtRate = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fmtMs = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(2));

/**
 * The stdout table: one line per workload × system; on a rival's line, ilkkun's figure divided
 * by the rival's (jobs/s: the median of the per-run ratios, with their range; above 1 means
 * ilkkun is faster. latency p50: below 1 means ilkkun picks up sooner).
 */
export function formatTable(run: BenchRun): string {
  const header = [
    'workload',
    'c',
    'system',
    'jobs/s',
    'min–max',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'ilkkun ÷ rival',
  ];
  const rows = run.results.map((r) => {
    let ratio = '';
    if (r.system !== run.ilkkun) {
      const own = run.results.find(
        (o) => o.system === run.ilkkun && o.workload === r.workload && o.concurrency === r.concurrency,
      );
      if (own) {
        ratio =
          r.workload === 'latency' && own.latencyMs && r.latencyMs
            ? `×${(own.latencyMs.p50 / r.latencyMs.p50).toFixed(2)} p50`
            : r.ratio
              ? `×${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`
              : `×${(own.jobsPerSec.median / r.jobsPerSec.median).toFixed(2)}`;
      }
    }
    return [
      r.workload,
      String(r.concurrency),
      r.system,
      fmtRate(r.jobsPerSec.median),
      `${fmtRate(r.jobsPerSec.min)}–${fmtRate(r.jobsPerSec.max)}`,
      fmtMs(r.latencyMs?.p50),
      fmtMs(r.latencyMs?.p95),
      fmtMs(r.latencyMs?.p99),
      ratio,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const left = new Set([0, 2, 8]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `median (min–max) of ${run.meta.runs} runs; ratio = median (min–max) of per-run ratios; latency percentiles over all runs' samples · ${run.meta.sizes}`,
    ...(run.meta.addedLatencyMs > 0
      ? [
          `every system reached its server through a loopback proxy adding ${run.meta.addedLatencyMs} ms per round trip`,
        ]
      : []),
    `node ${run.meta.node} · ${run.meta.cpus}× ${run.meta.cpu} · ${run.meta.date}`,
    `latency columns: enqueue = per add call, enqueue-bulk = per batch call, latency = add call → handler start; process has none`,
  ].join('\n');
}

/** The JSON file's content: `{ "results": [...] }`, nothing else. */
export function toJson(run: BenchReport): string {
  return `${JSON.stringify({ results: run.results }, null, 2)}\n`;
}
