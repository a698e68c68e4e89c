import { describe, expect, it } from 'vitest';
import { formatTable, runBench } from '../dist/bench.js';
import { median, percentile } from '../dist/stats.js';

describe('bench harness', () => {
  it('computes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
  });

  it('measures every metric on a backend and prints a table (tiny sizes: a smoke test, not a figure)', async () => {
    const report = await runBench({
      urls: ['memory:'],
      runs: 1,
      jobs: 50,
      concurrencies: [1, 4],
      pickupJobs: 10,
    });
    const metrics = report.results[0]!.metrics;
    expect(Object.keys(metrics)).toEqual([
      'add one-by-one',
      'add bulk',
      'process c=1',
      'process c=4',
      'pickup p50',
      'pickup p99',
    ]);
    for (const m of Object.values(metrics)) expect(m.median).toBeGreaterThanOrEqual(0);
    expect(formatTable(report)).toContain('memory');
  });
});
