import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demoJobs, runDemo } from '../dist/demo.js';

describe('demo', () => {
  it('mixes the job kinds', () => {
    const jobs = demoJobs(200);
    expect(jobs.length).toBeGreaterThanOrEqual(195);
    expect(new Set(jobs.map((j) => j.queue)).size).toBe(4);
    expect(jobs.some((j) => j.delay !== undefined)).toBe(true);
  });

  it('works a small batch until drained (memory backend; runs the built dist, whose handler modules the children load)', async () => {
    const stream = new PassThrough();
    stream.resume();
    const summary = await runDemo({
      url: 'memory:',
      jobs: 40,
      reporter: 'log',
      stream: stream as unknown as NodeJS.WriteStream,
    });
    expect(summary.drained).toBe(true);
    expect(summary.completed + summary.dead).toBe(summary.enqueued);
    for (const c of Object.values(summary.counts)) expect(c.waiting + c.delayed + c.active).toBe(0);
  });
});
