import type { Job, JobRecord, LeasedJob, LeasedJobRecord } from './job.js';
import type { JsonValue } from './json.js';
import { deserializePayload } from './serialize.js';

/** Turn a stored record into what user code sees: the payload parsed from its JSON text. */
export function decodeJob<P = JsonValue>(record: LeasedJobRecord): LeasedJob<P>;
export function decodeJob<P = JsonValue>(record: JobRecord): Job<P>;
export function decodeJob<P = JsonValue>(record: JobRecord): Job<P> {
  return { ...record, payload: deserializePayload<P>(record.payload) };
}
