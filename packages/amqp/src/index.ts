import type { Backend } from '@ilkkun/core';
import { AmqpBackend } from './amqp-backend.js';
import { AmqpConnection } from './connection.js';
import { type AmqpBackendOptions, resolveOptions } from './options.js';
import { parseAmqpUrl } from './parse-url.js';

export { AmqpBackend } from './amqp-backend.js';
export { amqpCapabilities } from './capabilities.js';
export { BUCKETS, MAX_BUCKET_MS, MIN_BUCKET_MS, maxLatenessMs, planHop } from './delay-buckets.js';
export { type QueueNames, queueNames, waitQueueName } from './names.js';
export type { AmqpBackendOptions, QueueType } from './options.js';
export { parseAmqpUrl } from './parse-url.js';
export { DEFAULT_MAX_PRIORITY, exactPriorityRange, priorityLevel } from './priority-map.js';

/**
 * Open the AMQP backend a `amqp://` or `amqps://` URL names (core's `openBackend` calls this).
 * Connects before resolving, so a wrong host, password or vhost fails here, not on the first job.
 *
 * ```ts
 * const backend = await createBackend('amqp://guest:guest@127.0.0.1:5672?prefix=myapp');
 * ```
 */
export async function createBackend(url: string, options: AmqpBackendOptions = {}): Promise<Backend> {
  return openAmqpBackend(url, options);
}

/** `createBackend` with the concrete type (tests and tools that need `declaredQueues()` and the like). */
export async function openAmqpBackend(url: string, options: AmqpBackendOptions = {}): Promise<AmqpBackend> {
  const target = parseAmqpUrl(url);
  const resolved = resolveOptions(target.params, options as Record<string, unknown>);
  // messages name host:port/vhost only, never the URL with its credentials
  const where = `${target.hostname}:${target.port}${target.vhost === '/' ? '' : `/${target.vhost}`}`;
  const conn = new AmqpConnection(target, resolved, where);
  await conn.open();
  return new AmqpBackend(conn, resolved);
}
