import { assertQueueName, ConfigError } from '@ilkkun/core';

/** Longest prefix: keeps the longest derived name (a wait queue of a 200-char queue) within AMQP's 255 bytes. */
export const MAX_PREFIX_LENGTH = 32;
const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/**
 * The broker-side names of one ilkkun queue. `/` separates the parts because it can never occur
 * in an ilkkun queue name (`[A-Za-z0-9_.:-]`) nor in a prefix, so the mapping is injective: no
 * queue's work queue can collide with another queue's dead or wait queue (`a.dead` vs `a`).
 */
export interface QueueNames {
  /** the ilkkun queue name */
  queue: string;
  /** where ready jobs wait and consumers read: `<prefix>/<queue>` */
  work: string;
  /** jobs that failed for good: `<prefix>/<queue>/dead` */
  dead: string;
}

export function assertPrefix(prefix: string): string {
  if (prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      `amqp prefix ${JSON.stringify(prefix.slice(0, 40))} must be 1–${MAX_PREFIX_LENGTH} characters of [A-Za-z0-9_.:-]`,
    );
  }
  // RabbitMQ refuses to declare queues whose names start with "amq." (ACCESS_REFUSED).
  if (/^amq\./i.test(prefix))
    throw new ConfigError('amqp prefix must not start with "amq." (reserved by RabbitMQ)');
  return prefix;
}

export function queueNames(prefix: string, queue: string): QueueNames {
  assertQueueName(queue);
  const work = `${prefix}/${queue}`;
  return { queue, work, dead: `${work}/dead` };
}

/** The TTL wait queue for one delay bucket of one queue: `<prefix>/<queue>/wait/<ms>`. */
export function waitQueueName(names: QueueNames, bucketMs: number): string {
  return `${names.work}/wait/${bucketMs}`;
}
