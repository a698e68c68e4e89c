import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RIVALS } from '../dist/rivals/index.js';
import { median, percentile } from '../dist/stats.js';

const dir = mkdtempSync(join(tmpdir(), 'ilkkun-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('bench harness', () => {
  it('computes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 100)).toBe(5);
  });

  it('registers the rivals as plugins', () => {
    expect(Object.keys(RIVALS).sort()).toEqual([
      'bee-queue',
      'bullmq',
      'redis-raw',
      'sqs-consumer',
      'sqs-raw',
    ]);
    for (const r of Object.values(RIVALS)) expect(typeof r.open).toBe('function');
  });

  it('a tiny run on memory: prints a table and writes { results } in the documented shape (sizes far too small for figures)', () => {
    const json = join(dir, 'out.json');
    const res = spawnSync(
      process.execPath,
      [
        main,
        '--',
        '--url',
        'memory:',
        '--runs',
        '2',
        '--enqueue-jobs',
        '50',
        '--bulk-jobs',
        '200',
        '--batch',
        '100',
        '--process-jobs',
        '100',
        '--concurrency',
        '1,4',
        '--latency-jobs',
        '10',
        '--latency-rate',
        '200',
        '--json',
        json,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/workload\s+c\s+system\s+jobs\/s/);
    expect(res.stderr).toContain('[run 2/2] latency · ilkkun/memory');
    const file = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, unknown>[] };
    expect(Object.keys(file)).toEqual(['results']);
    expect(file.results.map((r) => `${r['workload']}@${r['concurrency']}`)).toEqual([
      'enqueue@1',
      'enqueue-bulk@1',
      'process@1',
      'process@4',
      'latency@16',
    ]);
    for (const r of file.results) {
      expect(Object.keys(r)).toEqual(['system', 'url', 'workload', 'concurrency', 'jobsPerSec', 'latencyMs']);
      expect(r).toMatchObject({ system: 'ilkkun/memory', url: 'memory:' });
      const rate = r['jobsPerSec'] as { median: number; min: number; max: number };
      expect(Object.keys(rate)).toEqual(['median', 'min', 'max']);
      expect(rate.min).toBeGreaterThan(0);
      expect(rate.min).toBeLessThanOrEqual(rate.median);
      expect(rate.median).toBeLessThanOrEqual(rate.max);
      const latency = r['latencyMs'] as { p50: number; p95: number; p99: number } | null;
      if (r['workload'] === 'process') {
        expect(latency).toBeNull();
      } else {
        expect(Object.keys(latency!)).toEqual(['p50', 'p95', 'p99']);
        expect(latency!.p50).toBeLessThanOrEqual(latency!.p95);
        expect(latency!.p95).toBeLessThanOrEqual(latency!.p99);
      }
    }
  });
});
