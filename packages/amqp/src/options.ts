import { ConfigError, optionReaders } from '@ilkkun/core';

// URL parameters and code options are merged before checking, so errors name them as "option"
const read = optionReaders('amqp');

import { assertPrefix } from './names.js';
import { assertMaxPriority, DEFAULT_MAX_PRIORITY } from './priority-map.js';

export type QueueType = 'classic' | 'quorum';

/** Options for `createBackend(url, options)`; each may also be given as a URL parameter of the same name. */
export interface AmqpBackendOptions {
  /** first part of every queue name (default "ilkkun"); separates apps sharing a vhost */
  prefix?: string;
  /** `classic` (default: priorities) or `quorum` (replicated, delivery limit, no priorities in 3.10) */
  queueType?: QueueType;
  /** classic queues: `x-max-priority` (default 20 → priorities −10…+10 exact); 0 = no priorities */
  maxPriority?: number;
  /** quorum queues: `x-delivery-limit`, the broker's own backstop against crash loops (default 20; 0 = none) */
  deliveryLimit?: number;
  /**
   * AMQP heartbeat in seconds (default 20): a frozen or cut-off worker is noticed after about
   * two of them, and its jobs go back to the queue. An event loop blocked longer than that
   * (CPU-bound inline handler) loses its connection: use the runner's process mode for those.
   */
  heartbeat?: number;
  /** how long to wait for the TCP/AMQP handshake (default 5000 ms) */
  connectTimeoutMs?: number;
  /** how long a push may take, including waiting out a reconnect, before it fails (default 15000 ms) */
  publishTimeoutMs?: number;
  /** longest pause between reconnect attempts (default 5000 ms; starts at 100 ms and doubles) */
  reconnectMaxDelayMs?: number;
}

export interface ResolvedOptions {
  prefix: string;
  queueType: QueueType;
  maxPriority: number;
  deliveryLimit: number;
  heartbeat: number;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
  reconnectMaxDelayMs: number;
}

const DEFAULTS: ResolvedOptions = {
  prefix: 'ilkkun',
  queueType: 'classic',
  maxPriority: DEFAULT_MAX_PRIORITY,
  deliveryLimit: 20,
  heartbeat: 20,
  connectTimeoutMs: 5000,
  publishTimeoutMs: 15_000,
  reconnectMaxDelayMs: 5000,
};

const KNOWN = new Set(Object.keys(DEFAULTS));

/**
 * URL parameters and the options object, merged (the object wins) and checked. Unknown names
 * are a `ConfigError`, never ignored: a misspelt `maxPriorty` must not silently give defaults.
 */
export function resolveOptions(
  params: Record<string, string>,
  options: Record<string, unknown> = {},
): ResolvedOptions {
  for (const key of [...Object.keys(params), ...Object.keys(options)]) {
    if (!KNOWN.has(key)) {
      throw read.unknown('option', key, [...KNOWN]);
    }
  }
  const raw: Record<string, unknown> = { ...params };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) raw[k] = v;
  const out: ResolvedOptions = { ...DEFAULTS };
  if (raw['prefix'] !== undefined) out.prefix = assertPrefix(String(raw['prefix']));
  if (raw['queueType'] !== undefined) {
    out.queueType = read.oneOf('option', 'queueType', raw['queueType'], ['classic', 'quorum'] as const);
  }
  if (raw['maxPriority'] !== undefined) {
    out.maxPriority = assertMaxPriority(read.integer('option', 'maxPriority', raw['maxPriority'], 0, 255));
    if (out.queueType === 'quorum' && out.maxPriority > 0) {
      throw new ConfigError(
        'amqp maxPriority needs classic queues: RabbitMQ 3.10 quorum queues have no priorities',
      );
    }
  }
  if (out.queueType === 'quorum') out.maxPriority = 0;
  if (raw['deliveryLimit'] !== undefined) {
    if (out.queueType !== 'quorum') {
      throw new ConfigError(
        'amqp deliveryLimit needs queueType=quorum (classic queues have no delivery count)',
      );
    }
    out.deliveryLimit = read.integer('option', 'deliveryLimit', raw['deliveryLimit'], 0, 1_000_000);
  }
  if (raw['heartbeat'] !== undefined)
    out.heartbeat = read.integer('option', 'heartbeat', raw['heartbeat'], 0, 3600);
  if (raw['connectTimeoutMs'] !== undefined) {
    out.connectTimeoutMs = read.integer('option', 'connectTimeoutMs', raw['connectTimeoutMs'], 100, 600_000);
  }
  if (raw['publishTimeoutMs'] !== undefined) {
    out.publishTimeoutMs = read.integer(
      'option',
      'publishTimeoutMs',
      raw['publishTimeoutMs'],
      100,
      3_600_000,
    );
  }
  if (raw['reconnectMaxDelayMs'] !== undefined) {
    out.reconnectMaxDelayMs = read.integer(
      'option',
      'reconnectMaxDelayMs',
      raw['reconnectMaxDelayMs'],
      100,
      600_000,
    );
  }
  return out;
}
