import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { BackoffOptions, JobError, JobRecord, NewJob } from '@ilkkun/core';

/**
 * How a job travels in an SQS message.
 * - Body: the payload's JSON text, as core serialised it. Other SQS tools see the payload as is, and
 *   a message sent by a plain SQS producer (no ilkkun attributes) is still a job (see `decodeMessage`).
 * - Message attributes (SQS attributes are immutable: every change to a job is a new message):
 *   `ilkkun.id` the job id (stable across re-sends, unlike the SQS MessageId),
 *   `ilkkun.job` compact JSON of the job fields, `ilkkun.error` the last error (optional).
 */
export const ATTR_ID = 'ilkkun.id';
export const ATTR_JOB = 'ilkkun.job';
export const ATTR_ERROR = 'ilkkun.error';
export const MESSAGE_ATTRIBUTE_NAMES = [ATTR_ID, ATTR_JOB, ATTR_ERROR];

/** Everything a job needs besides its id and SQS bookkeeping; what a re-send copies. */
export interface StoredJob {
  id: string;
  queue: string;
  payload: string;
  priority: number;
  runAt: number;
  /**
   * Attempts made before this SQS message was sent. A receive counts one more attempt per
   * delivery: attemptsMade = attemptsBefore + ApproximateReceiveCount.
   */
  attemptsBefore: number;
  maxAttempts: number;
  createdAt: number;
  /** tie-breaker among jobs created in the same millisecond (insertion order) */
  seq: number;
  backoff?: BackoffOptions;
  uniqueKey?: string;
  lastError?: JobError;
  /** when the job went dead (dead queue only) */
  deadAt?: number;
  /** FIFO mode: the message group, kept across re-sends */
  group?: string;
}

interface JobMeta {
  v: 1;
  q: string;
  a: number;
  m: number;
  p: number;
  r: number;
  c: number;
  s: number;
  b?: BackoffOptions;
  u?: string;
  d?: number;
}

interface ErrorMeta {
  m: string;
  n?: string;
  s?: string;
  a: number;
  t: number;
}

/**
 * SQS accepts only XML characters (#x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000+). JSON.stringify
 * already escapes control characters and lone surrogates; U+FFFE and U+FFFF it leaves raw, so they
 * are escaped here. With `escapeAstral`, characters above U+FFFF (emoji) become `\uD83D\uDE00`
 * pairs too: AWS accepts them raw, but fauxqs 1.x rejects them (its check works on UTF-16 units).
 * Either way the JSON value is unchanged: only its spelling differs.
 */
export function sqsSafeJson(text: string, escapeAstral = true): string {
  const pattern = escapeAstral ? /[\uFFFE\uFFFF\uD800-\uDFFF]/ : /[\uFFFE\uFFFF]/;
  if (!pattern.test(text)) return text;
  const global = new RegExp(pattern.source, 'g');
  return text.replace(global, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function str(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

export function newStoredJob(
  job: NewJob,
  id: string,
  now: number,
  seq: number,
  escapeAstral = true,
): StoredJob {
  const out: StoredJob = {
    id,
    queue: job.queue,
    payload: sqsSafeJson(job.payload, escapeAstral),
    priority: job.priority,
    runAt: job.runAt.getTime(),
    attemptsBefore: 0,
    maxAttempts: job.maxAttempts,
    createdAt: now,
    seq,
  };
  if (job.backoff !== undefined) out.backoff = job.backoff;
  if (job.uniqueKey !== undefined) out.uniqueKey = job.uniqueKey;
  return out;
}

/** The message attributes for a job (the body is `job.payload`). */
export function encodeAttributes(job: StoredJob): Record<string, MessageAttributeValue> {
  const meta: JobMeta = {
    v: 1,
    q: job.queue,
    a: job.attemptsBefore,
    m: job.maxAttempts,
    p: job.priority,
    r: job.runAt,
    c: job.createdAt,
    s: job.seq,
  };
  if (job.backoff !== undefined) meta.b = job.backoff;
  if (job.uniqueKey !== undefined) meta.u = job.uniqueKey;
  if (job.deadAt !== undefined) meta.d = job.deadAt;
  const attrs: Record<string, MessageAttributeValue> = {
    [ATTR_ID]: str(job.id),
    [ATTR_JOB]: str(sqsSafeJson(JSON.stringify(meta))),
  };
  if (job.lastError) attrs[ATTR_ERROR] = str(encodeError(job.lastError));
  return attrs;
}

function encodeError(error: JobError): string {
  const e: ErrorMeta = { m: error.message, a: error.attempt, t: new Date(error.at).getTime() };
  if (error.name !== undefined) e.n = error.name;
  if (error.stack !== undefined) e.s = error.stack;
  return sqsSafeJson(JSON.stringify(e));
}

/**
 * SQS's size of a message: body bytes plus, per attribute, the bytes of its name, data type and
 * value — the figure SQS compares with MaximumMessageSize.
 */
export function messageSize(body: string, attrs: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attrs)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    size += Buffer.byteLength(value.StringValue ?? '', 'utf8');
    size += value.BinaryValue?.byteLength ?? 0;
  }
  return size;
}

/**
 * Shorten a job's last error (stack first, then message) so the message fits `limit` bytes: a
 * huge stack trace must not make a retry impossible. The payload itself is never cut.
 */
export function fitError(job: StoredJob, limit: number): StoredJob {
  if (!job.lastError) return job;
  let error = job.lastError;
  for (let i = 0; i < 20; i++) {
    const candidate = { ...job, lastError: error };
    const over = messageSize(job.payload, encodeAttributes(candidate)) - limit;
    if (over <= 0) return candidate;
    if (error.stack !== undefined && error.stack.length > 0) {
      const keep = Math.max(0, error.stack.length - over - 16);
      error = keep > 0 ? { ...error, stack: `${error.stack.slice(0, keep)}…` } : omitStack(error);
    } else {
      error = {
        ...error,
        message: `${error.message.slice(0, Math.max(0, error.message.length - over - 16))}…`,
      };
    }
  }
  const { lastError: _dropped, ...rest } = job;
  return rest;
}

function omitStack(error: JobError): JobError {
  const { stack: _stack, ...rest } = error;
  return rest;
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function decodeError(text: string | undefined): JobError | undefined {
  const e = parseJson<ErrorMeta>(text);
  if (!e || typeof e.m !== 'string') return undefined;
  const out: JobError = { message: e.m, attempt: Number(e.a) || 0, at: new Date(Number(e.t) || 0) };
  if (typeof e.n === 'string') out.name = e.n;
  if (typeof e.s === 'string') out.stack = e.s;
  return out;
}

/** Defaults for a message sent by something other than ilkkun. */
export const FOREIGN_MAX_ATTEMPTS = 3;

/**
 * A received message as a job. `queue` and `priority` fill in for messages without ilkkun
 * attributes (sent by another SQS producer): their id is the SQS MessageId, runAt/createdAt the
 * SentTimestamp.
 */
export function decodeMessage(message: Message, queue: string, levelPriority: number): StoredJob {
  const attrs = message.MessageAttributes ?? {};
  const meta = parseJson<JobMeta>(attrs[ATTR_JOB]?.StringValue);
  const sent = Number(message.Attributes?.SentTimestamp ?? Date.now());
  const id = attrs[ATTR_ID]?.StringValue ?? message.MessageId ?? '';
  const job: StoredJob = {
    id,
    queue: typeof meta?.q === 'string' ? meta.q : queue,
    payload: message.Body ?? '',
    priority: typeof meta?.p === 'number' ? meta.p : levelPriority,
    runAt: typeof meta?.r === 'number' ? meta.r : sent,
    attemptsBefore: typeof meta?.a === 'number' ? meta.a : 0,
    maxAttempts: typeof meta?.m === 'number' ? meta.m : FOREIGN_MAX_ATTEMPTS,
    createdAt: typeof meta?.c === 'number' ? meta.c : sent,
    seq: typeof meta?.s === 'number' ? meta.s : 0,
  };
  if (meta?.b !== undefined) job.backoff = meta.b;
  if (typeof meta?.u === 'string') job.uniqueKey = meta.u;
  if (typeof meta?.d === 'number') job.deadAt = meta.d;
  const error = decodeError(attrs[ATTR_ERROR]?.StringValue);
  if (error) job.lastError = error;
  const group = message.Attributes?.MessageGroupId;
  if (group !== undefined) job.group = group;
  return job;
}

/** The record core and callers see. */
export function toRecord(job: StoredJob, attemptsMade: number): JobRecord {
  const out: JobRecord = {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    runAt: new Date(job.runAt),
    attemptsMade,
    maxAttempts: job.maxAttempts,
    createdAt: new Date(job.createdAt),
  };
  if (job.uniqueKey !== undefined) out.uniqueKey = job.uniqueKey;
  if (job.backoff !== undefined) out.backoff = { ...job.backoff };
  if (job.lastError !== undefined) out.lastError = { ...job.lastError, at: new Date(job.lastError.at) };
  return out;
}

/** Pop order within one result: priority, then runAt, then creation order. */
export function compareJobs(a: StoredJob, b: StoredJob): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.createdAt - b.createdAt || a.seq - b.seq;
}
