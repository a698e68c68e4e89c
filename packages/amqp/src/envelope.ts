import type { BackoffOptions, JobError, JobRecord } from '@ilkkun/core';
import type { Message } from 'amqplib';

/** The header that carries a job's bookkeeping; the body is the payload's JSON text, untouched. */
export const META_HEADER = 'x-ilkkun';
const DEFAULT_MAX_ATTEMPTS = 3;

/** Caps that keep the header table well under amqplib's 64 KiB encoding buffer. */
const MAX_ERROR_MESSAGE = 2000;
const MAX_ERROR_NAME = 200;
const MAX_ERROR_STACK = 8000;

/**
 * What travels with a job besides its payload. `attempts` is the number of attempts counted
 * when this copy was published; a delivery adds one (its own), and a redelivery (a holder that
 * died without settling) is counted by re-publishing a fresh copy — see `Subscription`.
 */
export interface JobMeta {
  id: string;
  queue: string;
  priority: number;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  backoff?: BackoffOptions;
  lastError?: JobError;
}

/**
 * On the wire, defaults are left out (a fresh job is `{"c":1795446572000}`): every byte is
 * parsed, stored and sent by the broker for every job. The queue is not stored: it is the queue
 * the message sits in.
 */
interface WireMeta {
  /** priority, default 0 */
  p?: number;
  /** runAt (ms), default createdAt */
  r?: number;
  /** attempts counted, default 0 */
  a?: number;
  /** maxAttempts, default 3 */
  m?: number;
  /** createdAt (ms) */
  c: number;
  b?: BackoffOptions;
  e?: { message: string; name?: string; stack?: string; attempt: number; at: number };
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function encodeMeta(meta: JobMeta): string {
  const wire: WireMeta = { c: meta.createdAt };
  if (meta.priority !== 0) wire.p = meta.priority;
  if (meta.runAt !== meta.createdAt) wire.r = meta.runAt;
  if (meta.attempts !== 0) wire.a = meta.attempts;
  if (meta.maxAttempts !== DEFAULT_MAX_ATTEMPTS) wire.m = meta.maxAttempts;
  if (meta.backoff) wire.b = meta.backoff;
  if (meta.lastError) {
    const e = meta.lastError;
    wire.e = { message: cut(String(e.message), MAX_ERROR_MESSAGE), attempt: e.attempt, at: e.at.getTime() };
    if (e.name !== undefined) wire.e.name = cut(String(e.name), MAX_ERROR_NAME);
    if (e.stack !== undefined) wire.e.stack = cut(String(e.stack), MAX_ERROR_STACK);
  }
  return JSON.stringify(wire);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Read a delivered message. A message published by another AMQP client (no or a broken
 * `x-ilkkun` header) is still a job: its body is the payload and the rest gets defaults, so any
 * producer that can publish JSON to `<prefix>/<queue>` can feed ilkkun workers.
 */
export function decodeMeta(msg: Message, queue: string, fallbackId: () => string): JobMeta {
  const now = Date.now();
  const props = msg.properties;
  const raw: unknown = props.headers?.[META_HEADER];
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : undefined;
  let wire: Partial<WireMeta> = {};
  if (text !== undefined) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') wire = parsed as Partial<WireMeta>;
    } catch {
      // a foreign or damaged header: fall back to defaults below
    }
  }
  const messageId: unknown = props.messageId;
  const createdAt = isInt(wire.c) ? wire.c : isInt(props.timestamp) ? props.timestamp * 1000 : now;
  const meta: JobMeta = {
    id: typeof messageId === 'string' && messageId !== '' ? messageId : fallbackId(),
    queue,
    priority: isInt(wire.p) ? wire.p : 0,
    runAt: isInt(wire.r) ? wire.r : createdAt,
    attempts: isInt(wire.a) && wire.a >= 0 ? wire.a : 0,
    maxAttempts: isInt(wire.m) && wire.m >= 1 ? wire.m : DEFAULT_MAX_ATTEMPTS,
    createdAt,
  };
  if (wire.b && typeof wire.b === 'object') meta.backoff = wire.b;
  const e = wire.e;
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    const lastError: JobError = {
      message: e.message,
      attempt: isInt(e.attempt) ? e.attempt : meta.attempts,
      at: new Date(isInt(e.at) ? e.at : now),
    };
    if (typeof e.name === 'string') lastError.name = e.name;
    if (typeof e.stack === 'string') lastError.stack = e.stack;
    meta.lastError = lastError;
  }
  return meta;
}

/** The job record a pop hands out (without its lease). */
export function toRecord(meta: JobMeta, payload: string, attemptsMade: number): JobRecord {
  const record: JobRecord = {
    id: meta.id,
    queue: meta.queue,
    payload,
    priority: meta.priority,
    runAt: new Date(meta.runAt),
    attemptsMade,
    maxAttempts: meta.maxAttempts,
    createdAt: new Date(meta.createdAt),
    state: 'active',
  };
  if (meta.backoff) record.backoff = { ...meta.backoff };
  if (meta.lastError) record.lastError = { ...meta.lastError, at: new Date(meta.lastError.at) };
  return record;
}

/**
 * How many earlier deliveries of this very copy ended without a settlement (the holder died,
 * its channel or connection closed, or the broker's consumer timeout fired). Quorum queues count
 * them (`x-delivery-count`, from the first redelivery on); classic queues only say "at least
 * one" (`redelivered`).
 */
export function unsettledDeliveries(msg: Message): number {
  const count: unknown = msg.properties.headers?.['x-delivery-count'];
  if (typeof count === 'number' && count > 0) return count;
  return msg.fields.redelivered ? 1 : 0;
}
