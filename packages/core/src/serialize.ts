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
  assertJson(payload, '$', new Set());
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

function assertJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new SerializationError(path, `${value} has no JSON form`);
      return;
    case 'bigint':
      throw new SerializationError(path, 'BigInt has no JSON form; send it as a string');
    case 'undefined':
      throw new SerializationError(path, 'undefined has no JSON form; omit the key or use null');
    case 'function':
      throw new SerializationError(path, 'functions cannot be serialised');
    case 'symbol':
      throw new SerializationError(path, 'symbols cannot be serialised');
    case 'object':
      break;
  }
  if (value === null) return;
  const obj = value as object;
  if (ancestors.has(obj)) throw new SerializationError(path, 'circular reference');
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) assertJson(obj[i], `${path}[${i}]`, ancestors);
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      throw new SerializationError(
        path,
        `${kind} is not a plain object; convert it first (a Date with toISOString(), a Map with Object.fromEntries())`,
      );
    }
    for (const key of Object.keys(obj)) {
      assertJson((obj as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new SerializationError(path, 'symbol keys cannot be serialised');
    }
  }
  ancestors.delete(obj);
}
