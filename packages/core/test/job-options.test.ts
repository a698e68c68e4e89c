import { describe, expect, test } from 'vitest';
import { backoffDelay, buildNewJob, InvalidJobOptionsError, InvalidQueueNameError } from '../src/index.js';

const limits = { maxPayloadBytes: 1024, now: 1_000_000 };

describe('buildNewJob', () => {
  test('defaults: priority 0, run now, 3 attempts', () => {
    expect(buildNewJob('q', { a: 1 }, {}, limits)).toEqual({
      queue: 'q',
      payload: '{"a":1}',
      priority: 0,
      runAt: new Date(1_000_000),
      maxAttempts: 3,
    });
  });

  test('delay, attempts, uniqueKey and backoff are carried', () => {
    const job = buildNewJob(
      'q',
      1,
      { delay: 500, attempts: 7, uniqueKey: 'k', backoff: 250, priority: -3 },
      limits,
    );
    expect(job.runAt.getTime()).toBe(1_000_500);
    expect(job).toMatchObject({
      maxAttempts: 7,
      uniqueKey: 'k',
      priority: -3,
      backoff: { type: 'fixed', delayMs: 250 },
    });
  });

  test('queue names are validated first', () => {
    expect(() => buildNewJob('a b', 1, {}, limits)).toThrow(InvalidQueueNameError);
    expect(() => buildNewJob('MyApp::Worker::Notify', 1, {}, limits)).not.toThrow();
  });

  test.each([
    [{ priority: 2 ** 31 }],
    [{ attempts: 1.5 }],
    [{ delay: Number.NaN }],
    [{ runAt: new Date('nope') }],
    [{ backoff: { type: 'linear', delayMs: 1 } }],
    [{ backoff: { type: 'exponential', delayMs: 1, jitter: 2 } }],
  ])('%j is refused with INVALID_JOB_OPTIONS', (options) => {
    expect(() => buildNewJob('q', 1, options as never, limits)).toThrow(InvalidJobOptionsError);
  });

  // issue 13: a runAt in year 3000 said "must be a valid Date"; the rule it broke is the ~100-year limit
  test('a runAt beyond the ~100-year limit names the limit and the value, not "valid Date"', () => {
    const year3000 = new Date('3000-01-01T00:00:00Z');
    const refused = () => buildNewJob('q', 1, { runAt: year3000 }, { ...limits, now: Date.UTC(2025, 0, 1) });
    expect(refused).toThrow(InvalidJobOptionsError);
    expect(refused).toThrow(/runAt 3000-01-01T00:00:00\.000Z is more than 100 years/);
    expect(refused).toThrow(/latest allowed now is 2124-12-08T00:00:00\.000Z/);
    expect(refused).not.toThrow(/valid Date/);
    expect(() => buildNewJob('q', 1, { runAt: year3000.getTime() }, limits)).toThrow(/100 years/);
    // a Date that is not a date is what "valid Date" is for
    expect(() => buildNewJob('q', 1, { runAt: new Date('nope') }, limits)).toThrow(
      /runAt must be a valid Date .*got an Invalid Date/,
    );
    expect(() => buildNewJob('q', 1, { delay: 4e12 }, limits)).toThrow(
      /delay must be .* 100 years \(100 × 365 days = 3153600000000 ms\); got 4000000000000/,
    );
  });
});

describe('backoffDelay', () => {
  test('fixed is constant', () => {
    expect(backoffDelay({ type: 'fixed', delayMs: 300 }, 5)).toBe(300);
  });
  test('exponential doubles per attempt up to the cap, jitter below the base', () => {
    const b = { type: 'exponential', delayMs: 100, maxDelayMs: 1000, jitter: 0 } as const;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(b, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const jittered = { ...b, jitter: 0.5 };
    expect(backoffDelay(jittered, 3, () => 0)).toBe(200);
    expect(backoffDelay(jittered, 3, () => 1)).toBe(400);
  });
});
