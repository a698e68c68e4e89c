import { BackendUnavailableError, IlkkunError } from '@ilkkun/core';
import { Redis, type RedisOptions } from 'ioredis';
import { classifyError } from './classify-error.js';
import type { ResolvedRedisOptions } from './options.js';
import type { ParsedRedisUrl } from './parse-url.js';

/**
 * How many reconnect attempts a queued command survives before it fails. With the backoff
 * below a command waits 1.3–2.5 s: a Redis restart or failover blip is ridden out, a server that
 * stays down surfaces as a retryable `BackendUnavailableError` instead of a hang.
 */
const MAX_RETRIES_PER_REQUEST = 4;

/**
 * Reconnect backoff: 50 ms doubling to 500 ms, ±25 % jitter so a fleet does not reconnect in
 * lockstep. The low ceiling is deliberate: ioredis fails queued commands only every
 * MAX_RETRIES_PER_REQUEST + 1 attempts, so the ceiling bounds how long a caller waits to hear
 * that Redis is down; a refused TCP connect twice a second costs nothing.
 */
export function retryDelay(attempt: number): number {
  const base = Math.min(500, 50 * 2 ** Math.min(attempt - 1, 6));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export type ConnectionRole = 'main' | 'blocking';

export function connectionOptions(
  target: ParsedRedisUrl,
  options: ResolvedRedisOptions,
  role: ConnectionRole,
): RedisOptions {
  const base: RedisOptions = {
    ...options.ioredis,
    host: target.host,
    port: target.port,
    db: target.db,
    connectTimeout: options.connectTimeoutMs,
    connectionName: `ilkkun-${role}`,
    // RESP2 on purpose: identical replies on every server version and proxy, no HELLO round trip
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    // In-flight commands are re-sent after a reconnect (ioredis drops their promises otherwise).
    // A re-sent push whose first reply was lost can insert a job twice: at-least-once, as documented.
    autoResendUnfulfilledCommands: true,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    retryStrategy: retryDelay,
    disableClientInfo: true,
  };
  if (target.username !== undefined) base.username = target.username;
  if (target.password !== undefined) base.password = target.password;
  if (target.tls) base.tls = { servername: target.host, ...(options.ioredis.tls ?? {}) };
  if (role === 'blocking') {
    // a BLPOP on a dead socket settles (as a timeout) shortly after its own timeout
    base.blockingTimeout = 60_000;
    base.blockingTimeoutGrace = 500;
  }
  return base;
}

/** Open a connection, or fail with an error naming where (never the password). */
export async function openConnection(options: RedisOptions, where: string): Promise<Redis> {
  const conn = new Redis(options);
  // ioredis re-emits every socket error; without a listener Node would print them as unhandled.
  // The failures that matter reach callers through their commands; the last one explains a
  // failed connect, which itself only says "Connection is closed.".
  let lastError: unknown;
  conn.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    await conn.connect();
  } catch (err) {
    conn.disconnect();
    const cause = lastError ?? err;
    const classified = classifyError(cause, 'connect', where);
    if (classified instanceof IlkkunError) throw classified;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new BackendUnavailableError(`cannot connect to redis at ${where}: ${detail}`, { cause });
  }
  return conn;
}
