/**
 * Per-queue job counters and histograms, kept as plain numbers and rendered in Prometheus's text
 * format at scrape time. A metrics library's labelled `observe()` validates and hashes its labels
 * on every call — three calls per job cost more than a no-op job's whole run in the pool — while
 * a tally is one Map lookup and a few additions per job.
 */

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
export const PICKUP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60];

/** Observations of one series: counts per bucket (not cumulative; the last is +Inf), sum, count. */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** Everything counted for one queue. */
export class QueueTally {
  completed = 0;
  failed = 0;
  retried = 0;
  dead = 0;
  leaseLost = 0;
  readonly pickup = new Buckets(PICKUP_BUCKETS);
  readonly completedDuration = new Buckets(DURATION_BUCKETS);
  readonly failedDuration = new Buckets(DURATION_BUCKETS);
}

type Labels = ReadonlyArray<readonly [string, string]>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  return labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function header(name: string, help: string, type: 'counter' | 'histogram'): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** A counter family: one line per labelled series. */
export function counterText(name: string, help: string, series: ReadonlyArray<[Labels, number]>): string {
  const lines = header(name, help, 'counter');
  for (const [labels, value] of series) lines.push(`${name}${labelText(labels)} ${value}`);
  return lines.join('\n');
}

/** A histogram family: cumulative `_bucket` lines (`le` first, as client libraries print it), `_sum`, `_count`. */
export function histogramText(name: string, help: string, series: ReadonlyArray<[Labels, Buckets]>): string {
  const lines = header(name, help, 'histogram');
  for (const [labels, b] of series) {
    let cumulative = 0;
    b.counts.forEach((n, i) => {
      cumulative += n;
      const le = i < b.bounds.length ? String(b.bounds[i]) : '+Inf';
      lines.push(`${name}_bucket${labelText([['le', le], ...labels])} ${cumulative}`);
    });
    lines.push(`${name}_sum${labelText(labels)} ${b.sum}`);
    lines.push(`${name}_count${labelText(labels)} ${b.count}`);
  }
  return lines.join('\n');
}
