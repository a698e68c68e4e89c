import { ConfigError } from '@ilkkun/core';

/** RabbitMQ's own ceiling for `x-max-priority`. */
export const AMQP_MAX_PRIORITY = 255;
/**
 * Default `x-max-priority`: 21 levels, so the priorities people actually use (−10…+10, the
 * default 0 in the middle) keep their exact order. Each level costs the broker a sub-queue;
 * `maxPriority=0` turns priorities off for the plainest, fastest queue.
 */
export const DEFAULT_MAX_PRIORITY = 20;

export function assertMaxPriority(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > AMQP_MAX_PRIORITY) {
    throw new ConfigError(`amqp maxPriority must be an integer 0–${AMQP_MAX_PRIORITY} (got ${value})`);
  }
  return value;
}

/**
 * ilkkun priorities are int32 with 0 the default; AMQP levels are 0…maxPriority with higher
 * first. Level `mid = floor(maxPriority / 2)` is priority 0, each step up or down is one level,
 * and priorities beyond the ends clamp: with the default 20, −10…+10 map one-to-one onto
 * 0…20, +11 and above run like +10, −11 and below like −10. A negative priority therefore
 * still runs after the default, which a plain `min(p, max)` clamp would not give.
 */
export function priorityLevel(priority: number, maxPriority: number): number {
  if (maxPriority === 0) return 0;
  const mid = Math.floor(maxPriority / 2);
  return Math.min(maxPriority, Math.max(0, mid + priority));
}

/** The ilkkun priorities that keep their exact order with this `maxPriority` (for docs and errors). */
export function exactPriorityRange(maxPriority: number): { min: number; max: number } {
  const mid = Math.floor(maxPriority / 2);
  return { min: -mid, max: maxPriority - mid };
}
