import { assertQueueName, ConfigError } from '@ilkkun/core';
import type { QueueSettings } from './config.js';
import { defaultSettings, GROUP_KEYS, mergeSettings, validateSettings } from './config.js';
import type { HandlerSpec, ResolvedHandler } from './handler.js';
import { normalizeSpec } from './handler.js';

/** One slot group to build: its name, settings and the handlers of its queues. */
export interface GroupPlan {
  name: string;
  settings: QueueSettings;
  specs: Map<string, ResolvedHandler>;
}

export interface Plan {
  groups: GroupPlan[];
  /** effective settings per queue (defaults ← global ← the queue's own) */
  perQueue: Map<string, QueueSettings>;
}

/**
 * Turn `handlers` + `global` into slot groups, validating everything up front (queue names,
 * settings, handler specs), so a bad option throws before anything runs.
 *
 * Queues that only change per-job settings share the `default` group (one pop over all their
 * names, `global.concurrency` slots); a queue overriding a pool-shaping setting (`GROUP_KEYS`)
 * gets a group of its own, like one Gearman worker class.
 */
export function planGroups(
  handlers: Record<string, HandlerSpec>,
  globalInput: unknown,
  baseDir: string,
): Plan {
  const defaults = defaultSettings().queue;
  const global = validateSettings(globalInput, 'global');
  const queues = Object.keys(handlers ?? {});
  if (queues.length === 0) throw new ConfigError('handlers must name at least one queue');
  const shared: GroupPlan = {
    name: 'default',
    settings: mergeSettings(defaults, global, {}, 'global'),
    specs: new Map(),
  };
  const groups: GroupPlan[] = [];
  const perQueue = new Map<string, QueueSettings>();
  for (const queue of queues) {
    assertQueueName(queue);
    const spec = normalizeSpec(queue, handlers[queue] as HandlerSpec, baseDir);
    const where = `handlers["${queue}"].settings`;
    const own = validateSettings(spec.settings, where);
    const merged = mergeSettings(defaults, global, own, where);
    perQueue.set(queue, merged);
    if (GROUP_KEYS.some((k) => own[k] !== undefined)) {
      groups.push({ name: queue, settings: merged, specs: new Map([[queue, spec.handler]]) });
    } else {
      shared.specs.set(queue, spec.handler);
    }
  }
  if (shared.specs.size > 0) groups.unshift(shared);
  for (const group of groups) {
    if (group.settings.mode !== 'process') continue;
    for (const [queue, handler] of group.specs) {
      if (handler.kind !== 'module') {
        throw new ConfigError(
          `queue "${queue}" runs in process mode, so its handler must be a module path (loaded in each child), not a function`,
        );
      }
    }
  }
  return { groups, perQueue };
}
