import { hasErrorCode } from '@ilkkun/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { contractTest } from '../contract-test.js';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with code ${code}`).toBeDefined();
  expect(hasErrorCode(err, code as never), `got ${String(err)}`).toBe(true);
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic['self'] = cyclic;

export const BAD_PAYLOADS: ReadonlyArray<[string, unknown]> = [
  ['BigInt', { n: 10n }],
  ['function', { f: () => 1 }],
  ['symbol', { s: Symbol('x') }],
  ['cycle', cyclic],
  ['NaN', { n: Number.NaN }],
  ['Infinity', [Number.POSITIVE_INFINITY]],
  ['undefined value', { u: undefined }],
  ['top-level undefined', undefined],
  ['Date', { when: new Date(0) }],
  ['Map', new Map([['a', 1]])],
];

export const BAD_QUEUE_NAMES: readonly string[] = [
  "a'; DROP TABLE job; --",
  '$where',
  '../x',
  '',
  'x'.repeat(201),
  'has space',
  'new\nline',
  'slash/inside',
  'ünïcode',
  '{"$gt":""}',
];

export function validationSuite(ctx: SuiteContext): void {
  describe('validation', () => {
    contractTest(
      ctx,
      'add() refuses non-JSON payloads with SERIALIZATION and writes nothing',
      [],
      async () => {
        const q = ctx.queue('badpayload');
        for (const [label, payload] of BAD_PAYLOADS) {
          await expectCode(
            ctx.client().addMany([
              { queue: q, payload: { ok: label } },
              { queue: q, payload },
            ]),
            'SERIALIZATION',
          );
        }
        expect(await ctx.backend().pop([q], { max: 100 })).toEqual([]);
      },
    );

    contractTest(
      ctx,
      'add() refuses a payload over the limit with PAYLOAD_TOO_LARGE and writes nothing',
      [],
      async () => {
        const q = ctx.queue('toolarge');
        const limit = Math.min(256 * 1024, ctx.capabilities().maxPayloadBytes ?? Number.POSITIVE_INFINITY);
        await expectCode(ctx.client().add(q, 'x'.repeat(limit)), 'PAYLOAD_TOO_LARGE');
        await expectCode(ctx.client().add(q, { s: 'é'.repeat(Math.ceil(limit / 2)) }), 'PAYLOAD_TOO_LARGE');
        expect(await ctx.backend().pop([q], { max: 10 })).toEqual([]);
      },
    );

    contractTest(
      ctx,
      'add() refuses bad queue names (injection-shaped, empty, 201 chars) with INVALID_QUEUE_NAME',
      [],
      async () => {
        const q = ctx.queue('goodname');
        for (const name of BAD_QUEUE_NAMES) {
          await expectCode(
            ctx.client().addMany([
              { queue: q, payload: 1 },
              { queue: name, payload: 1 },
            ]),
            'INVALID_QUEUE_NAME',
          );
        }
        expect(await ctx.backend().pop([q], { max: 10 })).toEqual([]);
      },
    );

    contractTest(
      ctx,
      'add() accepts the widest valid queue name (200 chars of [A-Za-z0-9_.:-], Perl-style ::)',
      [],
      async () => {
        const perl = ctx.queue('MyApp::Worker::Notify');
        const long = `${perl}-${'z'.repeat(200 - perl.length - 1)}`;
        const results = await ctx.client().addMany([
          { queue: perl, payload: 'perl' },
          { queue: long, payload: 'long' },
        ]);
        const a = await ctx.popUntil(perl, 1);
        const b = await ctx.popUntil(long, 1);
        expect(a.map((j) => j.id)).toEqual([results[0]!.id]);
        expect(b.map((j) => j.id)).toEqual([results[1]!.id]);
        await ctx.backend().ack(a[0]!);
        await ctx.backend().ack(b[0]!);
        if (ctx.capabilities().inspect.purge) await ctx.backend().inspector!.purge(long);
      },
    );

    contractTest(
      ctx,
      'add() refuses bad options (fractional priority, 0 attempts, negative delay, unknown key) with INVALID_JOB_OPTIONS',
      [],
      async () => {
        const q = ctx.queue('badopts');
        await expectCode(ctx.client().add(q, 1, { priority: 1.5 }), 'INVALID_JOB_OPTIONS');
        await expectCode(ctx.client().add(q, 1, { attempts: 0 }), 'INVALID_JOB_OPTIONS');
        await expectCode(ctx.client().add(q, 1, { delay: -1 }), 'INVALID_JOB_OPTIONS');
        await expectCode(ctx.client().add(q, 1, { delay: 1, runAt: new Date() }), 'INVALID_JOB_OPTIONS');
        await expectCode(ctx.client().add(q, 1, { uniqueKey: '' }), 'INVALID_JOB_OPTIONS');
        await expectCode(ctx.client().add(q, 1, { prority: 1 } as never), 'INVALID_JOB_OPTIONS');
        expect(await ctx.backend().pop([q], { max: 10 })).toEqual([]);
      },
    );
  });
}

export { expectCode };
