import { ConfigError, hasErrorCode, LeaseLostError } from '@ilkkun/core';
import { describe, expect, test } from 'vitest';
import {
  decodeMessage,
  encodeAttributes,
  fitError,
  messageSize,
  type StoredJob,
  sqsSafeJson,
} from '../src/attributes.js';
import { MicroBatcher } from '../src/batcher.js';
import { classifyError, isLeaseGone } from '../src/classify-error.js';
import { decideFence, fenceAtSend, type LeaseEntry } from '../src/lease-table.js';
import { delaySecondsFor, isDue, visibilitySecondsFor } from '../src/long-delay.js';
import { resolveOptions } from '../src/options.js';
import { parseSqsUrl } from '../src/parse-url.js';
import { levelOf, levelTag, parseLevelTag, parsePriorityRange } from '../src/priority-levels.js';
import { baseName, deadQueueName, levelQueueName, parseSqsName } from '../src/queue-names.js';
import { sendFenced } from '../src/send-fence.js';

const SQS_NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('queue name mapping', () => {
  test('deterministic, within 80 characters of [A-Za-z0-9_-] (+ .fifo), for the widest names', () => {
    const names = ['a', 'MyApp::Worker::Notify', 'x'.repeat(200), `${'a.b:c-d_'.repeat(25)}`, 'emails'];
    for (const prefix of ['ilkkun', 'p'.repeat(20)]) {
      for (const q of names) {
        const base = baseName(prefix, q);
        expect(baseName(prefix, q)).toBe(base);
        for (const level of [-999, -5, 0, 7, 999]) {
          const std = levelQueueName(base, level, false);
          const fifo = levelQueueName(base, level, true);
          expect(std).toMatch(SQS_NAME);
          expect(fifo.endsWith('.fifo')).toBe(true);
          expect(fifo.length).toBeLessThanOrEqual(80);
          expect(fifo.slice(0, -5)).toMatch(SQS_NAME);
          expect(parseSqsName(prefix, std)).toEqual({ base, kind: { kind: 'level', level, fifo: false } });
          expect(parseSqsName(prefix, fifo)).toEqual({ base, kind: { kind: 'level', level, fifo: true } });
        }
        expect(deadQueueName(base)).toMatch(SQS_NAME);
        expect(parseSqsName(prefix, deadQueueName(base))).toEqual({ base, kind: { kind: 'dead' } });
      }
    }
  });

  test('names that sanitise alike (a.b, a:b, a_b, a-b) and long names sharing 150 characters stay apart', () => {
    const similar = ['a.b', 'a:b', 'a_b', 'a-b', `${'q'.repeat(150)}1`, `${'q'.repeat(150)}2`];
    const bases = similar.map((q) => baseName('ilkkun', q));
    expect(new Set(bases).size).toBe(similar.length);
    // no base is a prefix of another's names: listing one queue's levels never finds another's
    for (const a of bases)
      for (const b of bases) if (a !== b) expect(`${b}-`.startsWith(`${a}-`)).toBe(false);
  });

  test('names of other prefixes or foreign queues are not ours', () => {
    expect(parseSqsName('ilkkun', 'other-queue')).toBeUndefined();
    expect(parseSqsName('ilkkun', `${baseName('ilkkunx', 'q')}-p0`)).toBeUndefined();
    expect(parseSqsName('ilkkun', `${baseName('ilkkun', 'q')}-zz`)).toBeUndefined();
    expect(parseSqsName('ilkkun', `${baseName('ilkkun', 'q')}-dead.fifo`)).toBeUndefined();
  });
});

describe('priority levels', () => {
  test('exact inside the range, clamped outside; tags round-trip', () => {
    const range = parsePriorityRange('-10..10');
    expect([-2_147_483_648, -11, -10, -1, 0, 3, 10, 11, 2_147_483_647].map((p) => levelOf(p, range))).toEqual(
      [-10, -10, -10, -1, 0, 3, 10, 10, 10],
    );
    expect(parsePriorityRange('0')).toEqual({ min: 0, max: 0 });
    for (const l of [-999, -1, 0, 1, 999]) expect(parseLevelTag(levelTag(l))).toBe(l);
    for (const bad of ['5..1', '1..', 'x', '-1000..0', '0..1000', '']) {
      expect(() => parsePriorityRange(bad)).toThrow(ConfigError);
    }
  });
});

describe('delays and leases (whole seconds on SQS)', () => {
  test('DelaySeconds rounds up (never early) and caps at the per-message limit', () => {
    const now = 1_000_000;
    expect(delaySecondsFor(now - 5, now, 900)).toBe(0);
    expect(delaySecondsFor(now + 1, now, 900)).toBe(1);
    expect(delaySecondsFor(now + 1000, now, 900)).toBe(1);
    expect(delaySecondsFor(now + 1001, now, 900)).toBe(2);
    expect(delaySecondsFor(now + 3_600_000, now, 900)).toBe(900);
    expect(delaySecondsFor(now + 3_600_000, now, 2)).toBe(2);
    expect(isDue(now + 200, now, 250)).toBe(true);
    expect(isDue(now + 300, now, 250)).toBe(false);
    expect([1, 400, 1000, 1001, 30_000, 86_400_000].map(visibilitySecondsFor)).toEqual([
      1, 1, 1, 2, 30, 43_200,
    ]);
  });

  /**
   * AWS: DeleteMessage with a stale receipt handle "succeeds" without deleting (documented), and
   * a handle from an earlier receive is not guaranteed to be refused by ChangeMessageVisibility.
   * So the fence never asks SQS when the local clock can decide; these are its decisions.
   */
  test('lease fence: act at once well inside the lease, refuse after it, ask SQS only in between', () => {
    const timing = { sentAt: 10_000, recvAt: 10_050, visibilitySeconds: 30 };
    const guard = 1000;
    expect(decideFence(timing, 10_100, 0, guard)).toBe('fast');
    expect(decideFence(timing, 38_999, 0, guard)).toBe('fast'); // sentAt + 30 s - guard
    expect(decideFence(timing, 39_001, 0, guard)).toBe('verify');
    expect(decideFence(timing, 30_000, 10_000, guard)).toBe('verify'); // a requeue needing 10 s more
    expect(decideFence(timing, 40_049, 0, guard)).toBe('verify'); // SQS's timer may still run
    expect(decideFence(timing, 40_050, 0, guard)).toBe('lost'); // certainly over: never touch the message
    expect(decideFence(timing, 99_999, 0, guard)).toBe('lost');
  });
});

describe('message attributes', () => {
  const job: StoredJob = {
    id: 'j1',
    queue: 'MyApp::Q',
    payload: '{"a":1}',
    priority: -3,
    runAt: 1_700_000_000_000,
    attemptsBefore: 2,
    maxAttempts: 5,
    createdAt: 1_700_000_000_001,
    seq: 9,
    backoff: { type: 'fixed', delayMs: 10 },
    lastError: {
      message: 'boom 😀',
      name: 'Error',
      stack: 'Error: boom\n at x',
      attempt: 2,
      at: new Date(5),
    },
  };

  test('a job survives encode → decode; a message from another producer is still a job', () => {
    const attrs = encodeAttributes(job);
    const back = decodeMessage(
      { MessageId: 'm', Body: job.payload, MessageAttributes: attrs, Attributes: { SentTimestamp: '1' } },
      'ignored',
      0,
    );
    expect(back).toEqual(job);
    const foreign = decodeMessage(
      { MessageId: 'mid', Body: '{"x":1}', Attributes: { SentTimestamp: '42' } },
      'q',
      4,
    );
    expect(foreign).toMatchObject({
      id: 'mid',
      queue: 'q',
      priority: 4,
      runAt: 42,
      attemptsBefore: 0,
      maxAttempts: 3,
    });
  });

  test('JSON text is made SQS-safe without changing its value (U+FFFE/FFFF always, astral optionally)', () => {
    const value = { s: 'a\uFFFEb\uFFFF😀 한' };
    const text = JSON.stringify(value);
    const safe = sqsSafeJson(text);
    expect(safe).not.toMatch(/[\uFFFE\uFFFF\uD800-\uDFFF]/);
    expect(JSON.parse(safe)).toEqual(value);
    expect(sqsSafeJson(text, false)).toContain('😀');
    expect(JSON.parse(sqsSafeJson(text, false))).toEqual(value);
  });

  test('a huge stack trace is cut so the message fits; the payload never is', () => {
    const big = { ...job, lastError: { ...job.lastError!, stack: 'x'.repeat(50_000) } };
    const fitted = fitError(big, 8192);
    expect(messageSize(fitted.payload, encodeAttributes(fitted))).toBeLessThanOrEqual(8192);
    expect(fitted.payload).toBe(job.payload);
    expect(fitted.lastError?.message).toBe('boom 😀');
  });
});

describe('URL and options', () => {
  test('a host means that endpoint (tls=false → http); no host means AWS for the region', () => {
    expect(parseSqsUrl('sqs://127.0.0.1:4566?region=us-east-1&tls=false')).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      host: '127.0.0.1',
      params: { region: 'us-east-1' },
    });
    expect(parseSqsUrl('sqs://vpce.example:443?region=eu-west-1').endpoint).toBe('https://vpce.example:443');
    expect(parseSqsUrl('sqs://?region=eu-west-1')).toEqual({ host: '', params: { region: 'eu-west-1' } });
    expect(parseSqsUrl('sqs:?region=eu-west-1')).toEqual({ host: '', params: { region: 'eu-west-1' } });
  });

  test('bad URLs and options are a ConfigError that never repeats a secret', () => {
    const bad = [
      'sqs://AKIAEXAMPLE:s3cr3tValue@127.0.0.1:4566?region=us-east-1',
      'sqs://127.0.0.1:4566/queue?region=us-east-1',
      'sqs://?region=eu-west-1&tls=false',
      'sqs://127.0.0.1:4566?region=us-east-1&tls=maybe',
      'redis://127.0.0.1',
    ];
    for (const url of bad) {
      let err: unknown;
      try {
        parseSqsUrl(url);
      } catch (e) {
        err = e;
      }
      expect(hasErrorCode(err, 'CONFIG'), url).toBe(true);
      expect(String(err)).not.toContain('s3cr3tValue');
    }
    const env = {};
    expect(() => resolveOptions({ regoin: 'us-east-1' }, {}, env)).toThrow(
      /unknown sqs URL parameter "regoin"/,
    );
    expect(() => resolveOptions({}, {}, env)).toThrow(/needs a region/);
    expect(() => resolveOptions({ region: 'us-east-1', prefix: 'has-dash' }, {}, env)).toThrow(ConfigError);
    expect(() => resolveOptions({ region: 'us-east-1', longPollSeconds: '21' }, {}, env)).toThrow(
      ConfigError,
    );
    expect(resolveOptions({}, {}, { AWS_REGION: 'ap-south-1' }).region).toBe('ap-south-1');
    expect(
      resolveOptions({ region: 'us-east-1', fifo: 'true', priorities: '0..3' }, { prefix: 'app' }, env),
    ).toMatchObject({ fifo: true, prefix: 'app', priorities: { min: 0, max: 3 } });
  });

  test('errors: credentials → CONFIG, throttling/network/5xx → BACKEND_UNAVAILABLE, stale handles recognised', () => {
    const cfg = classifyError(
      { name: 'InvalidClientTokenId', message: 'bad', $metadata: { httpStatusCode: 403 } },
      'x',
      'w',
    );
    expect(hasErrorCode(cfg, 'CONFIG')).toBe(true);
    for (const e of [
      { name: 'RequestThrottled', message: 'slow down' },
      { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
      { name: 'InternalError', message: 'x', $fault: 'server', $metadata: { httpStatusCode: 500 } },
    ]) {
      expect(hasErrorCode(classifyError(e, 'x', 'w'), 'BACKEND_UNAVAILABLE')).toBe(true);
    }
    expect(isLeaseGone({ name: 'MessageNotInflight', message: '' })).toBe(true);
    expect(isLeaseGone({ name: 'ReceiptHandleIsInvalid', message: '' })).toBe(true);
    expect(
      isLeaseGone({ name: 'InvalidParameterValue', message: 'Reason: The receipt handle has expired.' }),
    ).toBe(true);
    expect(isLeaseGone({ name: 'InvalidParameterValue', message: 'VisibilityTimeout too large' })).toBe(
      false,
    );
  });
});

describe('micro-batching of deletes', () => {
  const recorder = (lingerMs: number) => {
    const sent: number[] = [];
    const batcher = new MicroBatcher<number, void>({
      maxItems: 10,
      lingerMs,
      flush: async (_key, items) => {
        sent.push(items.length);
        return items.map(() => ({ ok: true as const, value: undefined }));
      },
    });
    return { sent, batcher };
  };

  test('without linger, what arrives in one turn goes out at its end (16 → 10 + 6)', async () => {
    const { sent, batcher } = recorder(0);
    await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.add('q', i)));
    expect(sent).toEqual([10, 6]);
  });

  test('with linger, full batches go at once and a part batch waits to be filled by the next items', async () => {
    const { sent, batcher } = recorder(200);
    const first = Array.from({ length: 16 }, (_, i) => batcher.add('q', i));
    await first[9];
    expect(sent).toEqual([10]);
    const second = Array.from({ length: 4 }, (_, i) => batcher.add('q', 100 + i));
    await Promise.all([...first, ...second]);
    expect(sent).toEqual([10, 10]);
  });

  test('with linger, a part batch nobody fills still goes out, and drain() sends it at once', async () => {
    const { sent, batcher } = recorder(20);
    await Promise.all(Array.from({ length: 3 }, (_, i) => batcher.add('q', i)));
    expect(sent).toEqual([3]);
    const late = batcher.add('q', 9);
    await batcher.drain();
    await late;
    expect(sent).toEqual([3, 1]);
  });
});

describe('the lease fence at send time (a stalled ack is never sent)', () => {
  const entry = (sentAt: number, visibilitySeconds: number) =>
    ({ sentAt, recvAt: sentAt + 50, visibilitySeconds, job: { id: 'j1' } }) as unknown as LeaseEntry;

  test('a batch entry may go only while its lease holds for the guard (and what it needs after)', () => {
    const fence = fenceAtSend(entry(10_000, 30), 1000);
    expect(fence(38_999)).toBeUndefined(); // 1 s (the guard) before the earliest possible timeout
    expect(fence(39_001)).toBeInstanceOf(LeaseLostError); // SQS still holds it, but the request may arrive late
    expect(fence(41_000)).toBeInstanceOf(LeaseLostError);
    const requeue = fenceAtSend(entry(10_000, 30), 1000, 2000);
    expect(requeue(36_999)).toBeUndefined();
    expect(hasErrorCode(requeue(37_001), 'LEASE_LOST')).toBe(true);
  });

  test('fenced-out entries are answered LEASE_LOST and left out of the request; the rest keep their order', async () => {
    const sent: string[][] = [];
    const lost = new LeaseLostError('b');
    const outcomes = await sendFenced(
      [{ item: 'a' }, { item: 'b', fence: () => lost }, { item: 'c', fence: () => undefined }],
      async (items) => {
        sent.push(items);
        return items.map((item) => ({ ok: true as const, value: item.toUpperCase() }));
      },
    );
    expect(sent).toEqual([['a', 'c']]);
    expect(outcomes).toEqual([
      { ok: true, value: 'A' },
      { ok: false, error: lost },
      { ok: true, value: 'C' },
    ]);
    const none = await sendFenced([{ item: 'x', fence: () => lost }], async () => {
      throw new Error('must not be called');
    });
    expect(none).toEqual([{ ok: false, error: lost }]);
  });
});
