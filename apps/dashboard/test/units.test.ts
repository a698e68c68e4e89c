import {
  BackendUnavailableError,
  ConfigError,
  type IlkkunErrorCode,
  InvalidQueueNameError,
  JobNotFoundError,
  UnsupportedFeatureError,
} from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../src/index.js';
import {
  counterDelta,
  countRateSeries,
  depthSeries,
  isLoopbackHost,
  mapError,
  poolRateSeries,
  recentRate,
  resolveOptions,
  STATUS_BY_CORE_CODE,
} from '../src/index.js';
import { parsePoolStatus } from '../src/server/pool-status.js';
import { parseQueueCounters } from '../src/server/prometheus.js';
import { RingBuffer } from '../src/server/ring-buffer.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('options', () => {
  it('binds to 127.0.0.1 by default and refuses other hosts without --allow-remote', () => {
    expect(resolveOptions({ backend: 'memory:' })).toMatchObject({
      host: '127.0.0.1',
      port: 8040,
      readOnly: false,
    });
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
      expect(resolveOptions({ backend: 'memory:', host }).host).toBe(host);
    }
    for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com']) {
      expect(
        codeOf(() => resolveOptions({ backend: 'memory:', host })),
        host,
      ).toBe('CONFIG');
    }
  });

  it('beyond loopback, asks for a token or read-only', () => {
    expect(codeOf(() => resolveOptions({ backend: 'memory:', host: '0.0.0.0', allowRemote: true }))).toBe(
      'CONFIG',
    );
    expect(
      resolveOptions({ backend: 'memory:', host: '0.0.0.0', allowRemote: true, readOnly: true }).readOnly,
    ).toBe(true);
    expect(
      resolveOptions({ backend: 'memory:', host: '0.0.0.0', allowRemote: true, token: 'long-enough' }).token,
    ).toBe('long-enough');
  });

  it('checks the token, the port and the sampling settings', () => {
    expect(codeOf(() => resolveOptions({ backend: 'memory:', token: 'short' }))).toBe('CONFIG');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', token: 'has a space' }))).toBe('CONFIG');
    expect(resolveOptions({ backend: 'memory:', token: '' }).token).toBeUndefined();
    expect(codeOf(() => resolveOptions({ backend: 'memory:', port: 70_000 }))).toBe('CONFIG');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', port: 1.5 }))).toBe('CONFIG');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', sampleIntervalMs: 1 }))).toBe('CONFIG');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', historySize: 1 }))).toBe('CONFIG');
  });

  it('takes pools on loopback only, unless remote pools are allowed, and normalises their URLs', () => {
    const { pools } = resolveOptions({
      backend: 'memory:',
      pools: ['http://127.0.0.1:9090', 'http://localhost:9091/status', 'http://[::1]:9092/'],
    });
    expect(pools.map((p) => p.base)).toEqual([
      'http://127.0.0.1:9090',
      'http://localhost:9091',
      'http://[::1]:9092',
    ]);
    expect(pools.map((p) => p.id)).toEqual(['0', '1', '2']);
    expect(codeOf(() => resolveOptions({ backend: 'memory:', pools: ['http://10.0.0.5:9090'] }))).toBe(
      'CONFIG',
    );
    expect(
      resolveOptions({ backend: 'memory:', pools: ['http://10.0.0.5:9090'], allowRemotePools: true }).pools[0]
        ?.base,
    ).toBe('http://10.0.0.5:9090');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', pools: ['ftp://127.0.0.1/'] }))).toBe('CONFIG');
    expect(codeOf(() => resolveOptions({ backend: 'memory:', pools: ['not a url'] }))).toBe('CONFIG');
    expect(
      codeOf(() => resolveOptions({ backend: 'memory:', pools: ['http://u:secret@127.0.0.1:9090'] })),
    ).toBe('CONFIG');
  });

  it('never repeats a pool URL’s password in its message', () => {
    try {
      resolveOptions({ backend: 'memory:', pools: ['http://u:hunter22@127.0.0.1:9090'] });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter22');
    }
  });
});

describe('loopback', () => {
  it('knows loopback names and addresses', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      'app.localhost',
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '[::1]',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '128.0.0.1',
      '10.0.0.1',
      '::',
      'example.com',
      'localhost.example.com',
      '',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('errors → HTTP', () => {
  it('maps every core code to a status', () => {
    const expected: Partial<Record<IlkkunErrorCode, number>> = {
      CONFIG: 400,
      INVALID_QUEUE_NAME: 400,
      JOB_NOT_FOUND: 404,
      LEASE_LOST: 409,
      UNSUPPORTED_FEATURE: 501,
      BACKEND_UNAVAILABLE: 503,
    };
    expect(STATUS_BY_CORE_CODE).toMatchObject(expected);
    expect(mapError(new InvalidQueueNameError('a b', 'no spaces'))).toMatchObject({
      status: 400,
      code: 'INVALID_QUEUE_NAME',
    });
    expect(mapError(new JobNotFoundError('7'))).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(mapError(new UnsupportedFeatureError('purge', 'sqs'))).toMatchObject({ status: 501 });
    expect(mapError(new ConfigError('bad'))).toMatchObject({ status: 400, code: 'CONFIG' });
  });

  it('hides unexpected errors and passwords', () => {
    const internal = mapError(new Error('secret detail'));
    expect(internal).toMatchObject({ status: 500, code: 'INTERNAL', internal: true });
    expect(internal.message).not.toContain('secret');
    const down = mapError(
      new BackendUnavailableError('connect ECONNREFUSED redis://u:pa55word@10.1.1.1:6379'),
    );
    expect(down.status).toBe(503);
    expect(down.message).not.toContain('pa55word');
  });
});

const counts = (waiting: number, dead = 0, completed = 0) => ({
  waiting,
  delayed: 0,
  active: 0,
  completed,
  dead,
});

describe('rates', () => {
  const samples: Sample[] = [
    {
      t: 0,
      queues: { a: counts(10), b: counts(1) },
      pools: {
        '0': { ok: true, completed: 100, failed: 1, byQueue: { a: { completed: 50, failed: 0, dead: 0 } } },
      },
    },
    {
      t: 1000,
      queues: { a: counts(8, 1), b: counts(1) },
      pools: {
        '0': { ok: true, completed: 104, failed: 2, byQueue: { a: { completed: 53, failed: 0, dead: 0 } } },
      },
    },
    {
      t: 2000,
      queues: { a: counts(5, 0) },
      pools: {
        '0': { ok: true, completed: 3, failed: 0, byQueue: { a: { completed: 2, failed: 0, dead: 0 } } },
      },
    },
    { t: 3000, queues: {}, pools: {}, error: 'backend down' },
  ];

  it('reads depth per queue and in total, skipping failed samples', () => {
    expect(depthSeries(samples, 'waiting')).toEqual([
      { t: 0, v: 11 },
      { t: 1000, v: 9 },
      { t: 2000, v: 5 },
    ]);
    expect(depthSeries(samples, 'waiting', 'b').map((p) => p.v)).toEqual([1, 1, 0]);
  });

  it('turns count growth into a rate and never goes negative', () => {
    expect(countRateSeries(samples, 'dead').map((p) => p.v)).toEqual([1, 0]);
  });

  it('takes completions from pool counters, across a restart', () => {
    expect(counterDelta(10, 15)).toBe(5);
    expect(counterDelta(10, 3)).toBe(3);
    expect(poolRateSeries(samples, 'completed')?.map((p) => p.v)).toEqual([4, 3, 0]);
    expect(poolRateSeries(samples, 'completed', 'a')?.map((p) => p.v)).toEqual([3, 2, 0]);
    expect(poolRateSeries(samples, 'completed', 'b')).toBeUndefined();
    expect(poolRateSeries([samples[3]!, samples[3]!], 'completed')).toBeUndefined();
    expect(
      recentRate([
        { t: 1, v: 2 },
        { t: 2, v: 4 },
      ]),
    ).toBe(3);
    expect(recentRate(undefined)).toBeUndefined();
  });

  it('is not fooled by queue names that are Object.prototype keys', () => {
    expect(depthSeries(samples, 'waiting', 'constructor').map((p) => p.v)).toEqual([0, 0, 0]);
    expect(poolRateSeries(samples, 'completed', '__proto__')).toBeUndefined();
    expect(poolRateSeries(samples, 'completed', 'toString')).toBeUndefined();
  });
});

describe('pool documents', () => {
  it('reads per-queue counters from Prometheus text', () => {
    const text = [
      '# HELP ilkkun_jobs_completed_total Jobs completed',
      '# TYPE ilkkun_jobs_completed_total counter',
      'ilkkun_jobs_completed_total{queue="emails"} 12',
      'ilkkun_jobs_completed_total{queue="MyApp::Worker::Notify"} 3',
      'ilkkun_jobs_failed_total{queue="emails"} 2',
      'ilkkun_jobs_dead_total{queue="emails"} 1',
      'ilkkun_busy_slots 2',
      'ilkkun_queue_depth{queue="emails",state="waiting"} 40',
      'garbage line',
    ].join('\n');
    expect(parseQueueCounters(text)).toEqual({
      emails: { completed: 12, failed: 2, dead: 1 },
      'MyApp::Worker::Notify': { completed: 3, failed: 0, dead: 0 },
    });
  });

  it('keeps only what a runner status has, and refuses what is not one', () => {
    expect(parsePoolStatus({ hello: 'world' })).toBeUndefined();
    expect(parsePoolStatus('text')).toBeUndefined();
    const status = parsePoolStatus({
      pid: 42,
      state: 'running',
      uptimeMs: 1000,
      busy: 1,
      size: 2,
      scoreboard: 'W_ 1/2 busy',
      totals: { completed: 5, evil: 'x' },
      groups: [
        {
          name: 'default',
          mode: 'inline',
          queues: ['emails', 7],
          slots: [
            {
              index: 0,
              group: 'default',
              state: 'busy',
              queue: 'emails',
              jobId: '9',
              since: 'now',
              jobsDone: 4,
              extra: 'dropped',
            },
            'junk',
          ],
          workers: [],
        },
      ],
      unknown: { deep: true },
    });
    expect(status).toEqual({
      pid: 42,
      state: 'running',
      uptimeMs: 1000,
      busy: 1,
      size: 2,
      scoreboard: 'W_ 1/2 busy',
      totals: { completed: 5 },
      groups: [
        {
          name: 'default',
          mode: 'inline',
          queues: ['emails'],
          slots: [
            {
              index: 0,
              group: 'default',
              state: 'busy',
              queue: 'emails',
              jobId: '9',
              since: 'now',
              jobsDone: 4,
            },
          ],
          workers: [],
        },
      ],
    });
    const long = parsePoolStatus({ totals: {}, groups: [], scoreboard: 'x'.repeat(5000) });
    expect(long?.scoreboard.length).toBe(500);
  });
});

describe('ring buffer', () => {
  it('keeps the newest items up to its capacity', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.last()).toBeUndefined();
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
    expect(ring.last()).toBe(5);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
