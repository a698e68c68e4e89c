import { cpus } from 'node:os';
import type { Backend } from '@ilkkun/core';
import { openBackend, redactUrl } from '@ilkkun/core';
import { addBulk, addOneByOne, pickupLatency, processThroughput } from './scenarios.js';
import { median } from './stats.js';

export interface BenchOptions {
  urls: readonly string[];
  /** runs per metric; the median is reported (default 3) */
  runs?: number;
  /** jobs per throughput measurement (default 2000) */
  jobs?: number;
  /** one-by-one adds per run (default: min(jobs, 1000)) */
  addOneJobs?: number;
  concurrencies?: readonly number[];
  /** jobs for the pickup-latency measurement (default 200) */
  pickupJobs?: number;
  log?: (line: string) => void;
}

export interface Metric {
  median: number;
  runs: number[];
  unit: string;
}

export interface BackendResult {
  backend: string;
  url: string;
  metrics: Record<string, Metric>;
}

export interface BenchReport {
  date: string;
  node: string;
  platform: string;
  cpu: string;
  cpus: number;
  runs: number;
  jobs: number;
  results: BackendResult[];
}

/** Every metric for every URL, each run on a freshly opened backend; medians of `runs` runs. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const runs = options.runs ?? 3;
  const jobs = options.jobs ?? 2_000;
  const addOne = options.addOneJobs ?? Math.min(jobs, 1_000);
  const concurrencies = options.concurrencies ?? [1, 16, 64];
  const pickupJobs = options.pickupJobs ?? 200;
  const log = options.log ?? (() => {});
  const results: BackendResult[] = [];

  for (const url of options.urls) {
    const samples = new Map<string, { unit: string; values: number[] }>();
    const record = (name: string, unit: string, value: number) => {
      const entry = samples.get(name) ?? { unit, values: [] };
      entry.values.push(value);
      samples.set(name, entry);
    };
    let backendName = '?';
    for (let run = 1; run <= runs; run++) {
      log(`${redactUrl(url)}: run ${run}/${runs}`);
      await withBackend(url, async (backend) => {
        backendName = backend.name;
        record('add one-by-one', 'jobs/s', await addOneByOne(backend, addOne));
        record('add bulk', 'jobs/s', await addBulk(backend, jobs));
        for (const c of concurrencies) {
          record(`process c=${c}`, 'jobs/s', await processThroughput(backend, jobs, c));
        }
        const pickup = await pickupLatency(backend, pickupJobs);
        record('pickup p50', 'ms', pickup.p50);
        record('pickup p99', 'ms', pickup.p99);
      });
    }
    const metrics: Record<string, Metric> = {};
    for (const [name, { unit, values }] of samples)
      metrics[name] = { median: median(values), runs: values, unit };
    results.push({ backend: backendName, url: redactUrl(url), metrics });
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu,
    cpus: cpus().length,
    runs,
    jobs,
    results,
  };
}

async function withBackend(url: string, fn: (backend: Backend) => Promise<void>): Promise<void> {
  const backend = await openBackend(url, { importer: (s) => import(s) });
  try {
    await fn(backend);
  } finally {
    await backend.close();
  }
}

/** A plain-text table: one row per backend, one column per metric (medians). */
export function formatTable(report: BenchReport): string {
  const metricNames = [...new Set(report.results.flatMap((r) => Object.keys(r.metrics)))];
  const header = ['backend', ...metricNames.map((m) => `${m} (${unitOf(report, m)})`)];
  const rows = report.results.map((r) => [
    r.backend,
    ...metricNames.map((m) => {
      const v = r.metrics[m]?.median;
      if (v === undefined || Number.isNaN(v)) return '-';
      return r.metrics[m]!.unit === 'ms' ? v.toFixed(1) : Math.round(v).toLocaleString('en-US');
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `median of ${report.runs} runs · ${report.jobs} jobs per throughput run · node ${report.node} · ${report.cpus}× ${report.cpu}`,
  ].join('\n');
}

function unitOf(report: BenchReport, metric: string): string {
  for (const r of report.results) if (r.metrics[metric]) return r.metrics[metric]!.unit;
  return '';
}
