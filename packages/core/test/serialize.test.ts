import { describe, expect, test } from 'vitest';
import { PayloadTooLargeError, SerializationError, serializePayload } from '../src/index.js';

describe('serializePayload', () => {
  test('plain JSON values serialise to the same text JSON.stringify gives', () => {
    const value = { a: [1, 'two', null, true], b: { c: 'é😀' } };
    expect(serializePayload(value)).toBe(JSON.stringify(value));
  });

  test.each([
    ['BigInt', { n: 1n }, '$.n'],
    ['function', [() => 1], '$[0]'],
    ['NaN', { deep: { x: Number.NaN } }, '$.deep.x'],
    ['undefined', { u: undefined }, '$.u'],
    ['Date', { d: new Date() }, '$.d'],
    ['class instance', { m: new Map() }, '$.m'],
  ])('%s is refused with the path to it', (_label, value, path) => {
    const err = (() => {
      try {
        serializePayload(value);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as SerializationError).code).toBe('SERIALIZATION');
    expect((err as SerializationError).path).toBe(path);
  });

  test('a cycle is refused, a shared (non-cyclic) reference is not', () => {
    const shared = { x: 1 };
    expect(serializePayload({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic['me'] = cyclic;
    expect(() => serializePayload(cyclic)).toThrow(SerializationError);
  });

  test('the size limit counts UTF-8 bytes, not characters', () => {
    expect(serializePayload('é'.repeat(49), 100)).toHaveLength(51);
    expect(() => serializePayload('é'.repeat(50), 100)).toThrow(PayloadTooLargeError);
  });
});
