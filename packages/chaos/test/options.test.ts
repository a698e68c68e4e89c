import { ConfigError, hasErrorCode } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { resolveOptions, runChaos, SCENARIO_NAMES } from '../dist/index.js';

describe('chaos options', () => {
  it('refuses an unknown scenario with a CONFIG error that lists the valid ones', () => {
    let caught: unknown;
    try {
      resolveOptions({ scenarios: ['kill-children', 'kill-everything'] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(hasErrorCode(caught, 'CONFIG')).toBe(true);
    expect((caught as Error).message).toContain('"kill-everything"');
    for (const name of SCENARIO_NAMES) expect((caught as Error).message).toContain(name);
  });

  it('refuses unbounded or nonsensical figures, naming the option and its range', () => {
    expect(() => resolveOptions({ workers: 1 })).toThrow(/workers must be an integer from 2 to 16/);
    expect(() => resolveOptions({ jobs: 0 })).toThrow(/jobs must be an integer from 1/);
    expect(() => resolveOptions({ leaseMs: 1.5 })).toThrow(/leaseMs/);
  });

  it('runs scenarios in catalogue order, each once', () => {
    expect(resolveOptions({ scenarios: ['stop-worker', 'kill-children', 'stop-worker'] }).scenarios).toEqual([
      'kill-children',
      'stop-worker',
    ]);
  });

  it('reports every scenario "not applicable" on memory: (one process), never passed', async () => {
    const report = await runChaos('memory:', { scenarios: ['kill-children', 'stop-worker'] });
    expect(report.scenarios.map((s) => s.status)).toEqual(['not-applicable', 'not-applicable']);
    expect(report.ok).toBe(false);
  });
});
