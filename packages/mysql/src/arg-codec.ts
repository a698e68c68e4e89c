import type { JsonValue } from '@ilkkun/core';
import { looksLikeStorable, readStorable, StorableError, writeStorable } from './storable.js';

/**
 * How `job.arg` crosses the language line.
 *
 * Writing (ilkkun jobs): the payload's JSON text as UTF-8 bytes, verbatim. It never starts with a
 * Storable magic byte, so a Perl TheSchwartz worker receives it as a plain string (decode it with
 * `JSON::PP::decode_json($job->arg)`), like Qudo's JSON hook. For queues listed in `storableQueues`
 * the payload is written as a Storable image instead, so an unchanged Perl worker gets a hashref.
 *
 * Reading (any job): Storable images are decoded; text is taken as JSON when it parses, else as a
 * plain string; NULL is `null`. What cannot become JSON (a Perl object, a code ref) is an
 * `ArgDecodeError`, and the backend moves that job to dead with the reason instead of guessing.
 */
export type ArgCodec = 'json' | 'storable' | 'raw' | 'null';

export class ArgDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgDecodeError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedArg {
  /** the payload as JSON text, what core's `JobRecord.payload` holds */
  payload: string;
  codec: ArgCodec;
}

/**
 * `fromIlkkun`: the row was written by ilkkun (its JSON text is trusted as is, saving a parse of
 * every payload on every pop); rows from Perl clients are checked.
 */
export function decodeArg(arg: Buffer | null, fromIlkkun: boolean): DecodedArg {
  if (arg === null) return { payload: 'null', codec: 'null' };
  if (looksLikeStorable(arg)) {
    try {
      return { payload: JSON.stringify(readStorable(arg)), codec: 'storable' };
    } catch (err) {
      if (err instanceof StorableError && err.unsupported) {
        throw new ArgDecodeError(`job arg cannot be read as JSON: ${err.message}`);
      }
      // Starts like Storable but is not (TheSchwartz's own rule: then it is a plain string).
    }
  }
  let text: string;
  try {
    text = utf8.decode(arg);
  } catch {
    // Perl byte strings that are not UTF-8: Latin-1 keeps every byte as one character
    return { payload: JSON.stringify(arg.toString('latin1')), codec: 'raw' };
  }
  if (fromIlkkun) return { payload: text, codec: 'json' };
  try {
    JSON.parse(text);
    return { payload: text, codec: 'json' };
  } catch {
    return { payload: JSON.stringify(text), codec: 'raw' };
  }
}

/**
 * Bytes for `job.arg`. `storable`: containers as a Storable image; a top-level scalar the way a
 * Perl client stores a non-reference arg (its text, booleans as "1"/"", null as SQL NULL), which
 * is all TheSchwartz can hand a worker for it.
 */
export function encodeArg(payload: string, storable: boolean): Buffer | null {
  if (!storable) return Buffer.from(payload, 'utf8');
  const value = JSON.parse(payload) as JsonValue;
  if (value === null) return null;
  if (typeof value === 'object') return writeStorable(value);
  if (typeof value === 'boolean') return Buffer.from(value ? '1' : '', 'utf8');
  return Buffer.from(String(value), 'utf8');
}
