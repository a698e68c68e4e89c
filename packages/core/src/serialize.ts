import { PayloadTooLargeError, SerializationError } from './errors.js';
import type { JsonValue } from './json.js';

/** The default payload limit: 256 KiB of UTF-8 JSON (SQS's message limit, a sane ceiling elsewhere). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Serialise a payload once, in core, before any backend sees it.
 *
 * `JSON.stringify` alone is lossy: it drops functions, symbols and `undefined`, turns NaN and
 * Infinity into null, Dates into strings and Maps into `{}`. A job queue must not silently
 * change what it was given, so anything that would not round-trip is refused with the path
 * to the offending value. Every backend therefore accepts and refuses exactly the same inputs.
 */
export function serializePayload(payload: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): string {
  assertJson(payload, [], new Set());
  const text = JSON.stringify(payload);
  // Byte length only matters near the limit; a UTF-16 length bound avoids the count on small payloads.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  }
  return text;
}

export function deserializePayload<P = JsonValue>(text: string): P {
  try {
    return JSON.parse(text) as P;
  } catch (cause) {
    throw new SerializationError('$', 'stored payload is not valid JSON', { cause });
  }
}

/** `$.a[0].b`: the path of the offending value, spelled only when there is one to report. */
function pathOf(keys: ReadonlyArray<string | number>): string {
  let path = '$';
  for (const key of keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
  return path;
}

function refusal(keys: ReadonlyArray<string | number>, why: string): SerializationError {
  return new SerializationError(pathOf(keys), why);
}

/**
 * Walks the value once. `keys` is the way down to it (pushed and popped as the walk goes), so a
 * valid payload — nearly every one — costs no string building at all.
 */
function assertJson(value: unknown, keys: Array<string | number>, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw refusal(keys, `${value} has no JSON form`);
      return;
    case 'bigint':
      throw refusal(keys, 'BigInt has no JSON form; send it as a string');
    case 'undefined':
      throw refusal(keys, 'undefined has no JSON form; omit the key or use null');
    case 'function':
      throw refusal(keys, 'functions cannot be serialised');
    case 'symbol':
      throw refusal(keys, 'symbols cannot be serialised');
    case 'object':
      break;
  }
  if (value === null) return;
  const obj = value as object;
  if (ancestors.has(obj)) throw refusal(keys, 'circular reference');
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      keys.push(i);
      assertJson(obj[i], keys, ancestors);
      keys.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      throw refusal(
        keys,
        `${kind} is not a plain object; convert it first (a Date with toISOString(), a Map with Object.fromEntries())`,
      );
    }
    for (const key of Object.keys(obj)) {
      keys.push(key);
      assertJson((obj as Record<string, unknown>)[key], keys, ancestors);
      keys.pop();
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw refusal(keys, 'symbol keys cannot be serialised');
  }
  ancestors.delete(obj);
}
