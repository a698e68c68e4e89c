import type { Job, JobRecord, LeasedJob, LeasedJobRecord } from './job.js';
import type { JsonValue } from './json.js';
import { deserializePayload } from './serialize.js';

/** Turn a stored record into what user code sees: the payload parsed from its JSON text. */
export function decodeJob<P = JsonValue>(record: LeasedJobRecord): LeasedJob<P>;
export function decodeJob<P = JsonValue>(record: JobRecord): Job<P>;
export function decodeJob<P = JsonValue>(record: JobRecord | LeasedJobRecord): Job<P> {
  // Built field by field rather than `{ ...record }`: a worker pool decodes every job it runs,
  // and a literal of known shape is several times cheaper than a generic spread.
  const job: Job<P> & { lease?: LeasedJobRecord['lease'] } = {
    id: record.id,
    queue: record.queue,
    payload: deserializePayload<P>(record.payload),
    priority: record.priority,
    runAt: record.runAt,
    attemptsMade: record.attemptsMade,
    maxAttempts: record.maxAttempts,
    createdAt: record.createdAt,
  };
  if (record.uniqueKey !== undefined) job.uniqueKey = record.uniqueKey;
  if (record.backoff !== undefined) job.backoff = record.backoff;
  if (record.lastError !== undefined) job.lastError = record.lastError;
  if (record.state !== undefined) job.state = record.state;
  if ('lease' in record && record.lease !== undefined) job.lease = record.lease;
  return job;
}
