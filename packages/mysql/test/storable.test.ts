import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { JsonValue } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { ArgDecodeError, decodeArg, encodeArg } from '../src/arg-codec.js';
import { looksLikeStorable, readStorable, StorableError, writeStorable } from '../src/storable.js';
import { fixture } from './helpers.js';

interface Vector {
  name: string;
  hex: string;
  json?: JsonValue;
  canonical?: boolean;
}

// Golden images made by Perl's Storable::nfreeze (storable-vectors.pl in shared/research/seed-anchors).
const vectors = readFileSync(fixture('storable-vectors.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Vector);
const bytes = (hex: string) => Buffer.from(hex, 'hex');

describe('Storable reader', () => {
  // nfreeze stores integers beyond int32 and every float as decimal strings: they come back as strings
  const asStored: Record<string, JsonValue> = {
    'ints beyond int32': ['2147483648', '1099511627776', '-1099511627776'],
    floats: ['1.5', '0.1', '-2.25', '1e+21'],
  };

  it.each(vectors.filter((v) => v.json !== undefined))('reads "$name" as Perl wrote it', (v) => {
    expect(looksLikeStorable(bytes(v.hex))).toBe(true);
    expect(readStorable(bytes(v.hex))).toEqual(asStored[v.name] ?? v.json);
  });

  it('reads the values JSON has no exact form for', () => {
    const byName = new Map(vectors.map((v) => [v.name, bytes(v.hex)]));
    expect(readStorable(byName.get('shared reference (SX_OBJECT backref)')!)).toEqual([[1], [1]]);
    expect(readStorable(byName.get('scalar ref top level')!)).toBe('hi');
    expect(readStorable(byName.get('ref to ref')!)).toEqual([1]);
    expect(readStorable(byName.get('booleans !!1 !!0')!)).toEqual(['1', '']);
  });

  it('refuses Perl objects, naming the class, as unsupported (not as "not Storable")', () => {
    for (const name of ['blessed hash', 'two objects same class (SX_IX_BLESS)']) {
      const v = vectors.find((x) => x.name === name)!;
      const err = catchError(() => readStorable(bytes(v.hex)));
      expect(err).toBeInstanceOf(StorableError);
      expect((err as StorableError).unsupported).toBe(true);
      expect((err as StorableError).message).toMatch(/object of class (Foo::Bar|K)/);
    }
  });

  it.each([
    ['code reference', '050b1a'],
    ['tied hash', '050b0c'],
    ['hook', '050b13'],
    ['regular expression', '050b20'],
    ['native byte order', '040b'],
  ])('refuses a %s with a clear message', (what, hex) => {
    const err = catchError(() => readStorable(bytes(hex)));
    expect(err).toBeInstanceOf(StorableError);
    expect((err as Error).message).toMatch(new RegExp(what.split(' ')[0]!, 'i'));
  });

  it('reports damaged images (truncated, trailing bytes, bad back-reference, runaway counts) as not readable', () => {
    for (const hex of [
      '050b0300000001',
      '050b0881ff',
      '050b0000000009',
      '050b02ffffffff',
      '050b0a05616263',
    ]) {
      const err = catchError(() => readStorable(bytes(hex)));
      expect(err).toBeInstanceOf(StorableError);
      expect((err as StorableError).unsupported).toBe(false);
    }
  });

  it('never lets a "__proto__" key touch a prototype', () => {
    const image = writeStorable(JSON.parse('{"__proto__":{"polluted":1}}') as { [key: string]: JsonValue });
    const value = readStorable(image) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('Storable writer', () => {
  it('writes exactly what nfreeze writes for the canonical vector and the fixed-order ones', () => {
    for (const v of vectors.filter(
      (x) => x.json !== undefined && typeof x.json === 'object' && x.json !== null,
    )) {
      const single = Array.isArray(v.json) || Object.keys(v.json as object).length <= 1 || v.canonical;
      if (!single || /floats|beyond int32|utf8 key/.test(v.name)) continue;
      expect(writeStorable(v.json as JsonValue[]).toString('hex'), v.name).toBe(v.hex);
    }
  });

  it('round-trips JSON data through the reader (with Storable’s number and boolean rules)', () => {
    const data = {
      s: 'é ☺',
      n: [0, -128, 127, 128, -2147483648, 2147483647],
      big: 2 ** 40,
      f: 0.1,
      t: true,
      x: null,
    };
    expect(readStorable(writeStorable(data))).toEqual({ ...data, big: '1099511627776', f: '0.1', t: '1' });
  });

  it('is read by real Perl Storable as the same data (thaw + JSON::PP)', async () => {
    const data = {
      hello: 'wörld ☺',
      list: [1, 300, -5, 'x', null, { deep: ['a'] }],
      long: 'y'.repeat(300),
      '☺': 1,
    };
    const { stdout } = await promisify(execFile)('perl', [
      '-MStorable=thaw',
      '-MJSON::PP',
      '-e',
      'print JSON::PP->new->canonical->encode(thaw(pack("H*", $ARGV[0])))',
      writeStorable(data).toString('hex'),
    ]);
    expect(JSON.parse(stdout)).toEqual(data);
  });
});

describe('arg codec', () => {
  it('reads ilkkun JSON text verbatim, Perl text as JSON when it parses, else as a string, NULL as null', () => {
    expect(decodeArg(Buffer.from('{"a":1}'), true)).toEqual({ payload: '{"a":1}', codec: 'json' });
    expect(decodeArg(Buffer.from('42'), false)).toEqual({ payload: '42', codec: 'json' });
    expect(decodeArg(Buffer.from('plain'), false)).toEqual({ payload: '"plain"', codec: 'raw' });
    expect(decodeArg(Buffer.from([0xe9, 0x74, 0xe9]), false)).toEqual({ payload: '"été"', codec: 'raw' });
    expect(decodeArg(null, false)).toEqual({ payload: 'null', codec: 'null' });
    expect(decodeArg(bytes('050b030000000108810000000178'), false)).toEqual({
      payload: '{"x":1}',
      codec: 'storable',
    });
  });

  it('text that only starts like Storable is a string (TheSchwartz’s own rule)', () => {
    expect(decodeArg(Buffer.from('\tnot storable'), false)).toEqual({
      payload: '"\\tnot storable"',
      codec: 'raw',
    });
  });

  it('an unreadable Perl type is an ArgDecodeError', () => {
    expect(() => decodeArg(bytes('050b1a'), false)).toThrow(ArgDecodeError);
  });

  it('JSON written for ilkkun never looks like Storable', () => {
    for (const payload of ['{}', '[]', '"s"', '0', '-1', 'true', 'false', 'null']) {
      expect(looksLikeStorable(encodeArg(payload, false)!)).toBe(false);
    }
  });

  it('storable mode: containers as images, top-level scalars as Perl clients store them', () => {
    expect(looksLikeStorable(encodeArg('{"a":1}', true)!)).toBe(true);
    expect(encodeArg('"text"', true)?.toString()).toBe('text');
    expect(encodeArg('1.5', true)?.toString()).toBe('1.5');
    expect(encodeArg('true', true)?.toString()).toBe('1');
    expect(encodeArg('null', true)).toBeNull();
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
