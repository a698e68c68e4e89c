import type { JsonValue } from '@ilkkun/core';

/**
 * A reader and a writer for the subset of Perl's Storable format that TheSchwartz job args use:
 * `Storable::nfreeze` (network byte order) of hashes, arrays, strings, numbers and undef.
 * No npm package reads Storable, so this is ours; it is tested against images Perl made
 * (`shared/research/seed-anchors/storable-vectors.jsonl`) and round-tripped through real Perl.
 *
 * Opcodes are Storable.xs's `SX_*` table. After a 2-byte header (`(major << 1) | netorder`,
 * minor), one value follows. Every value read is numbered in reading order (pre-order) so later
 * `SX_OBJECT` opcodes can refer back to it (a reference stored twice).
 */

/** A Storable image this reader cannot turn into JSON (a Perl-only type, or a damaged image). */
export class StorableError extends Error {
  /** true when the bytes are Storable but hold something JSON cannot (code refs, objects, tied data) */
  readonly unsupported: boolean;
  constructor(message: string, unsupported: boolean) {
    super(message);
    this.name = 'StorableError';
    this.unsupported = unsupported;
  }
}

const SX = {
  OBJECT: 0,
  LSCALAR: 1,
  ARRAY: 2,
  HASH: 3,
  REF: 4,
  UNDEF: 5,
  INTEGER: 6,
  DOUBLE: 7,
  BYTE: 8,
  NETINT: 9,
  SCALAR: 10,
  TIED_ARRAY: 11,
  TIED_HASH: 12,
  TIED_SCALAR: 13,
  SV_UNDEF: 14,
  SV_YES: 15,
  SV_NO: 16,
  BLESS: 17,
  IX_BLESS: 18,
  HOOK: 19,
  OVERLOAD: 20,
  TIED_KEY: 21,
  TIED_IDX: 22,
  UTF8STR: 23,
  LUTF8STR: 24,
  FLAG_HASH: 25,
  CODE: 26,
  WEAKREF: 27,
  WEAKOVERLOAD: 28,
  VSTRING: 29,
  LVSTRING: 30,
  SVUNDEF_ELEM: 31,
  REGEXP: 32,
  LOBJECT: 33,
  BOOLEAN_TRUE: 34,
  BOOLEAN_FALSE: 35,
} as const;

/** Perl types with no JSON form, by opcode, for error messages. */
const PERL_ONLY: Readonly<Record<number, string>> = {
  [SX.TIED_ARRAY]: 'tied array',
  [SX.TIED_HASH]: 'tied hash',
  [SX.TIED_SCALAR]: 'tied scalar',
  [SX.HOOK]: 'object with a STORABLE_freeze hook',
  [SX.TIED_KEY]: 'tied hash element',
  [SX.TIED_IDX]: 'tied array element',
  [SX.CODE]: 'code reference',
  [SX.REGEXP]: 'regular expression',
  [SX.LOBJECT]: 'value over 2 GiB',
};

/** Classes whose objects are JSON booleans (a blessed reference to 1 or 0). */
const BOOLEAN_CLASSES = new Set([
  'JSON::PP::Boolean',
  'JSON::XS::Boolean',
  'Types::Serialiser::Boolean',
  'Cpanel::JSON::XS::Boolean',
  'JSON::Tiny::_Bool',
  'Mojo::JSON::_Bool',
  'boolean',
]);

const MAX_DEPTH = 512;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The bytes start like a Storable image: `pst0` (the file form) or a header byte whose major
 * version is 2..5 — the test TheSchwartz itself applies (`Storable::read_magic`) before thawing.
 * JSON text written without leading whitespace can never match.
 */
export function looksLikeStorable(bytes: Uint8Array): boolean {
  if (bytes.length >= 4 && bytes[0] === 0x70 && bytes[1] === 0x73 && bytes[2] === 0x74 && bytes[3] === 0x30) {
    return true;
  }
  if (bytes.length < 2) return false;
  const major = bytes[0]! >> 1;
  return major >= 2 && major <= 5;
}

/** Decode a network-order Storable image into JSON data. Throws `StorableError`. */
export function readStorable(bytes: Uint8Array): JsonValue {
  return new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).root();
}

/** A value under construction, for back-references that point into a value still being read (cycles). */
const PENDING = Symbol('pending');
type Slot = JsonValue | typeof PENDING;

class Reader {
  private pos = 0;
  /** every value read so far, by tag */
  private readonly seen: Slot[] = [];
  private readonly classes: string[] = [];

  constructor(private readonly buf: Buffer) {}

  root(): JsonValue {
    let start = 0;
    if (this.buf.subarray(0, 4).toString('latin1') === 'pst0') start = 4;
    this.pos = start;
    const first = this.byte();
    const major = first >> 1;
    if ((first & 1) === 0) {
      throw new StorableError(
        'native-order Storable image (Storable::freeze); only network order (nfreeze, what TheSchwartz writes) is portable',
        true,
      );
    }
    if (major < 2 || major > 5)
      throw new StorableError(`not a Storable image (major version ${major})`, false);
    // Storable accepts any minor version by default (accept_future_minor); so do we.
    this.byte();
    const value = this.value(0);
    if (this.pos !== this.buf.length) {
      throw new StorableError(`${this.buf.length - this.pos} unexpected bytes after the value`, false);
    }
    return value;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new StorableError(`nested deeper than ${MAX_DEPTH} levels`, true);
    const op = this.byte();
    if (op === SX.OBJECT) {
      const tag = this.u32();
      const target = this.seen[tag];
      if (target === undefined) throw new StorableError(`reference to unknown value #${tag}`, false);
      if (target === PENDING)
        throw new StorableError('cyclic data structure (JSON cannot hold a cycle)', true);
      return target;
    }
    const tag = this.seen.length;
    this.seen.push(PENDING);
    const value = this.body(op, depth);
    this.seen[tag] = value;
    return value;
  }

  private body(op: number, depth: number): JsonValue {
    switch (op) {
      case SX.SCALAR:
        return this.text(this.byte(), false);
      case SX.LSCALAR:
        return this.text(this.u32(), false);
      case SX.UTF8STR:
        return this.text(this.byte(), true);
      case SX.LUTF8STR:
        return this.text(this.u32(), true);
      case SX.BYTE:
        return this.byte() - 128;
      case SX.NETINT:
        return this.i32();
      case SX.UNDEF:
      case SX.SV_UNDEF:
      case SX.SVUNDEF_ELEM:
        return null;
      case SX.SV_YES:
      case SX.BOOLEAN_TRUE:
        return true;
      case SX.SV_NO:
      case SX.BOOLEAN_FALSE:
        return false;
      // a reference in Perl is just the nested value in JSON
      case SX.REF:
      case SX.OVERLOAD:
      case SX.WEAKREF:
      case SX.WEAKOVERLOAD:
        return this.value(depth + 1);
      case SX.ARRAY: {
        const n = this.count();
        const out: JsonValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case SX.HASH: {
        const n = this.count();
        const out: Record<string, JsonValue> = {};
        for (let i = 0; i < n; i++) {
          const v = this.value(depth + 1);
          setKey(out, this.text(this.u32(), false), v);
        }
        return out;
      }
      case SX.FLAG_HASH: {
        this.byte(); // hash flags (restricted hash): nothing to keep in JSON
        const n = this.count();
        const out: Record<string, JsonValue> = {};
        for (let i = 0; i < n; i++) {
          const v = this.value(depth + 1);
          const flags = this.byte();
          let key: string;
          if (flags & 0x08) {
            // SHV_K_ISSV: the key is stored as a value of its own
            const k = this.value(depth + 1);
            if (typeof k !== 'string') throw new StorableError('hash key is not a string', true);
            key = k;
          } else {
            const len = this.u32();
            // 0x01 SHV_K_UTF8: UTF-8; 0x02 SHV_K_WASUTF8: downgraded to Latin-1 bytes
            key = flags & 0x01 ? this.utf8(len) : flags & 0x02 ? this.latin1(len) : this.text(len, false);
          }
          setKey(out, key, v);
        }
        return out;
      }
      case SX.BLESS: {
        const name = this.latin1(this.classNameLength());
        this.classes.push(name);
        return this.blessed(name, depth);
      }
      case SX.IX_BLESS: {
        const index = this.classNameLength();
        const name = this.classes[index];
        if (name === undefined) throw new StorableError(`unknown class index ${index}`, false);
        return this.blessed(name, depth);
      }
      case SX.VSTRING:
      case SX.LVSTRING: {
        // v-string magic, then the plain string value it decorates
        this.skip(op === SX.VSTRING ? this.byte() : this.u32());
        return this.value(depth + 1);
      }
      case SX.INTEGER:
      case SX.DOUBLE:
        throw new StorableError('native integer/double in a network-order image', false);
      default: {
        const perlOnly = PERL_ONLY[op];
        if (perlOnly) throw new StorableError(`Perl-only Storable type: ${perlOnly}`, true);
        throw new StorableError(`unknown Storable opcode ${op}`, false);
      }
    }
  }

  /** JSON booleans from Perl JSON modules; any other object is refused rather than stripped of its class. */
  private blessed(name: string, depth: number): JsonValue {
    const inner = this.value(depth + 1);
    if (BOOLEAN_CLASSES.has(name)) return inner !== null && inner !== 0 && inner !== '' && inner !== '0';
    throw new StorableError(`Perl-only Storable type: object of class ${name}`, true);
  }

  private classNameLength(): number {
    const len = this.byte();
    return len & 0x80 ? this.u32() : len;
  }

  /** Perl byte strings usually carry UTF-8; anything that is not valid UTF-8 is read as Latin-1. */
  private text(len: number, isUtf8: boolean): string {
    if (isUtf8) return this.utf8(len);
    const bytes = this.take(len);
    try {
      return utf8.decode(bytes);
    } catch {
      return bytes.toString('latin1');
    }
  }

  private utf8(len: number): string {
    try {
      return utf8.decode(this.take(len));
    } catch {
      throw new StorableError('a string flagged UTF-8 is not valid UTF-8', false);
    }
  }

  private latin1(len: number): string {
    return this.take(len).toString('latin1');
  }

  /** An element count, checked against what is left so a damaged length cannot allocate gigabytes. */
  private count(): number {
    const n = this.u32();
    if (n > this.buf.length - this.pos) throw new StorableError(`count ${n} exceeds the image`, false);
    return n;
  }

  private take(len: number): Buffer {
    if (this.pos + len > this.buf.length) throw new StorableError('truncated image', false);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  private skip(len: number): void {
    this.take(len);
  }

  private byte(): number {
    return this.take(1)[0]!;
  }

  private u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  private i32(): number {
    return this.take(4).readInt32BE(0);
  }
}

/** Own, enumerable property even for `__proto__`, so data keys can never touch a prototype. */
function setKey(obj: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Write JSON data as `Storable::nfreeze` would write the equivalent Perl data, so an unchanged
 * Perl worker gets `$job->arg` as a hash or array reference. Deliberate choices (what Perl
 * can read back without surprises):
 * - booleans become the strings "1" / "" (Perl's own `!!1` / `!!0`), not SV_YES/SV_NO, which thaw
 *   read-only, nor the boolean opcodes 34/35, which Storable before 3.32 cannot read;
 * - integers fit for BYTE/NETINT use them; every other number is its decimal string, as nfreeze
 *   stores large integers and all floats;
 * - strings with any non-ASCII character are UTF-8 flagged (UTF8STR), others plain bytes.
 * Only containers are written: a top-level scalar has no Storable form TheSchwartz would thaw
 * (see `encodeArg`).
 */
export function writeStorable(value: JsonValue[] | { [key: string]: JsonValue }): Buffer {
  const out: Buffer[] = [Buffer.from([0x05, 0x0b])];
  writeValue(out, value, true);
  return Buffer.concat(out);
}

function writeValue(out: Buffer[], value: JsonValue, top: boolean): void {
  if (value === null) {
    out.push(Buffer.from([SX.UNDEF]));
  } else if (typeof value === 'boolean') {
    writeString(out, value ? '1' : '');
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -128 && value <= 127) {
      out.push(Buffer.from([SX.BYTE, value + 128]));
    } else if (Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647) {
      const b = Buffer.alloc(5);
      b[0] = SX.NETINT;
      b.writeInt32BE(value, 1);
      out.push(b);
    } else {
      writeString(out, String(value));
    }
  } else if (typeof value === 'string') {
    writeString(out, value);
  } else {
    // nested containers are references (SX_REF); the top level is the container itself
    if (!top) out.push(Buffer.from([SX.REF]));
    if (Array.isArray(value)) {
      out.push(opWithU32(SX.ARRAY, value.length));
      for (const item of value) writeValue(out, item, false);
    } else {
      const keys = Object.keys(value);
      const flagged = keys.some((k) => !isAscii(k));
      if (flagged) out.push(Buffer.from([SX.FLAG_HASH, 0]));
      out.push(flagged ? u32(keys.length) : opWithU32(SX.HASH, keys.length));
      for (const key of keys) {
        writeValue(out, value[key]!, false);
        const k = Buffer.from(key, 'utf8');
        if (flagged) out.push(Buffer.from([isAscii(key) ? 0 : 0x01]));
        out.push(u32(k.length), k);
      }
    }
  }
}

function writeString(out: Buffer[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  const ascii = bytes.length === s.length && isAscii(s);
  if (bytes.length <= 255) out.push(Buffer.from([ascii ? SX.SCALAR : SX.UTF8STR, bytes.length]));
  else out.push(opWithU32(ascii ? SX.LSCALAR : SX.LUTF8STR, bytes.length));
  out.push(bytes);
}

/** every UTF-16 unit below 0x80 (no regex: control characters included on purpose) */
const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function opWithU32(op: number, n: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = op;
  b.writeUInt32BE(n, 1);
  return b;
}
