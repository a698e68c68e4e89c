import type { Capabilities } from '@ilkkun/core';
import type { ResolvedOptions } from './options.js';

/**
 * What the AMQP backend can honestly promise, and why the rest is off:
 * - `uniqueKeys: false`: a queue has no keyed lookup; de-duplication would need a side store
 *   (a second database), which the one-driver rule for backend packages excludes.
 * - `inspect.list: false`: listing waiting or active jobs would mean consuming them (making
 *   them invisible to workers, and flagging them redelivered if put back). Only the management
 *   plugin's HTTP API can peek, and it is not assumed to be enabled.
 * - `priorities`: classic queues with `x-max-priority` only (RabbitMQ 3.10 quorum queues have
 *   none), and not with `maxPriority=0`.
 * - `extend: true`: lease deadlines are kept by this process (the broker has none), so they can
 *   be moved freely — but a job held longer than the broker's `consumer_timeout` (30 min by
 *   default) loses its channel; see docs/backends/amqp.md.
 */
export function amqpCapabilities(options: ResolvedOptions): Capabilities {
  return {
    priorities: options.queueType === 'classic' && options.maxPriority > 0,
    delays: true,
    uniqueKeys: false,
    extend: true,
    nativeWait: true,
    multiProcess: true,
    durable: true,
    leaseGranularityMs: 1,
    inspect: { counts: true, list: false, retryDead: true, deleteJobs: true, purge: true },
  };
}
