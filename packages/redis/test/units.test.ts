import type { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { CallLedger } from '../src/calls.js';
import { ServerClock } from '../src/clock.js';
import { resolveOptions } from '../src/options.js';
import { parseRedisUrl } from '../src/parse-url.js';
import { canEvictJobs } from '../src/preflight.js';
import { decodeError, decodeRecord, encodeError } from '../src/records.js';

describe('URL parsing', () => {
  test('host, port, db, credentials, TLS and parameters', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      params: {},
    });
    expect(parseRedisUrl('rediss://user:p%40ss@cache.example:6380/3?prefix=app')).toEqual({
      host: 'cache.example',
      port: 6380,
      db: 3,
      tls: true,
      username: 'user',
      password: 'p@ss',
      params: { prefix: 'app' },
    });
    expect(parseRedisUrl('redis://[::1]/2').host).toBe('::1');
    expect(parseRedisUrl('redis://:secret@h').password).toBe('secret');
  });

  test('refusals never echo the password', () => {
    for (const bad of [
      'redis://:pw-xyz@h/notadb',
      'mysql://:pw-xyz@h/1',
      'redis://:pw-xyz@h/1#frag',
      'redis://:pw-xyz@h:99999/1',
    ]) {
      expect(() => parseRedisUrl(bad)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
      try {
        parseRedisUrl(bad);
      } catch (err) {
        expect((err as Error).message).not.toContain('pw-xyz');
      }
    }
  });
});

describe('options', () => {
  test('defaults, URL strings and code values (code wins)', () => {
    expect(resolveOptions()).toMatchObject({
      prefix: 'ilkkun',
      evictionPolicy: 'refuse',
      keepCompleted: 0,
      keepDead: 100_000,
    });
    expect(resolveOptions({ prefix: 'a', keepDead: '5' }, { prefix: 'b' })).toMatchObject({
      prefix: 'b',
      keepDead: 5,
    });
    expect(() => resolveOptions({}, { ioredis: 3 })).toThrow(/ioredis/);
    expect(() => resolveOptions({ ioredis: '{}' })).toThrow(/unknown redis URL parameter "ioredis"/);
    expect(() => resolveOptions({ prefix: 'a*b' })).toThrow(/prefix/);
  });
});

describe('eviction policies', () => {
  test('only allkeys-* can evict keys without a TTL', () => {
    expect(canEvictJobs('allkeys-lru')).toBe(true);
    expect(canEvictJobs('allkeys-random')).toBe(true);
    expect(canEvictJobs('volatile-lru')).toBe(false);
    expect(canEvictJobs('noeviction')).toBe(false);
  });
});

describe('server clock', () => {
  test('times cross the boundary shifted by the measured offset', async () => {
    const skew = 600_000; // server ten minutes ahead
    const fake = {
      time: async () => {
        const ms = Date.now() + skew;
        return [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)];
      },
    } as unknown as Redis;
    const clock = new ServerClock(fake);
    await clock.sync();
    const t = Date.now();
    expect(Math.abs(clock.toServer(t) - (t + skew))).toBeLessThan(50);
    expect(Math.abs(clock.toClient(t + skew).getTime() - t)).toBeLessThan(50);
  });
});

describe('records', () => {
  test('a header with backoff and a uniqueKey holding tabs decodes exactly', () => {
    const clock = { toClient: (ms: number) => new Date(ms) } as unknown as ServerClock;
    const head = `-5\t7\t1000\t2000\t{"type":"fixed","delayMs":3}\tkey\twith\ttabs`;
    const record = decodeRecord('q', '9', [head, '{"a":1}', null, '2'], 0, clock, 'waiting');
    expect(record).toEqual({
      id: '9',
      queue: 'q',
      payload: '{"a":1}',
      priority: -5,
      runAt: new Date(2000),
      attemptsMade: 2,
      maxAttempts: 7,
      createdAt: new Date(1000),
      state: 'waiting',
      backoff: { type: 'fixed', delayMs: 3 },
      uniqueKey: 'key\twith\ttabs',
    });
    const bare = decodeRecord('q', '1', ['0\t3\t1000\t5\t\t', '1', null, '0'], 0, clock, 'waiting');
    expect(bare.backoff).toBeUndefined();
    expect(bare.uniqueKey).toBeUndefined();
  });

  test("errors round-trip; a lease expiry becomes core's leaseExpiredError", () => {
    const clock = { toClient: (ms: number) => new Date(ms) } as unknown as ServerClock;
    const error = { message: 'm', name: 'E', stack: 's', attempt: 2, at: new Date(5) };
    expect(decodeError(encodeError(error), clock)).toEqual(error);
    expect(decodeError('{"expired":true,"attempt":3,"at":77}', clock)).toEqual({
      message: 'lease expired',
      name: 'LeaseExpired',
      attempt: 3,
      at: new Date(77),
    });
  });
});

describe('unanswered lease-ending calls (calls.ts)', () => {
  const handle = (id: string, token = `t${id}`) => ({ id, queue: 'q', lease: { token } });

  test('a failed call is named by the next call of the same handle until one is answered', async () => {
    const ledger = new CallLedger();
    const [a, b] = [handle('1'), handle('2')];
    const first = ledger.number();
    await expect(ledger.track('ack', [a, b], first, Promise.reject(new Error('cut')))).rejects.toThrow('cut');
    expect(ledger.earlier('ack', a)).toBe(`${first}.0`);
    expect(ledger.earlier('ack', b)).toBe(`${first}.1`);
    expect(ledger.earlier('requeue', a)).toBe(''); // kinds apart: a requeue is not an ack
    expect(ledger.earlier('ack', handle('1', 'other token'))).toBe('');
    const second = ledger.number();
    await expect(ledger.track('ack', [b], second, Promise.reject(new Error('cut')))).rejects.toThrow();
    expect(ledger.earlier('ack', b)).toBe(`${first}.1,${second}.0`);
    expect(await ledger.track('ack', [b], ledger.number(), Promise.resolve('ok'))).toBe('ok');
    expect(ledger.earlier('ack', b)).toBe('');
    expect(ledger.earlier('ack', a)).toBe(`${first}.0`);
  });

  test('bounded: a few calls per handle, the oldest handles forgotten first', async () => {
    const ledger = new CallLedger();
    const a = handle('1');
    for (let i = 0; i < 6; i++)
      await ledger.track('ack', [a], ledger.number(), Promise.reject(new Error())).catch(() => 0);
    expect(ledger.earlier('ack', a)).toBe('3.0,4.0,5.0,6.0');
    const many = Array.from({ length: 10_001 }, (_, i) => handle(String(i + 10)));
    ledger.lost('ack', many, ledger.number());
    expect(ledger.earlier('ack', a)).toBe(''); // the oldest
    expect(ledger.earlier('ack', many[10_000]!)).toBe('7.10000');
  });
});
