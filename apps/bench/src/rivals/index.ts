import type { RivalPlugin } from '../system.js';
import { beeQueue } from './bee-queue.js';
import { bullmq } from './bullmq.js';
import { redisRaw } from './redis-raw.js';
import { sqsConsumer } from './sqs-consumer.js';
import { sqsRaw } from './sqs-raw.js';

/**
 * Every rival `--rival <name>` can pick. To add one: write `rivals/<name>.ts` exporting a
 * `RivalPlugin` (see `system.ts`), add its package to apps/bench's dependencies, list it here.
 */
export const RIVALS: Readonly<Record<string, RivalPlugin>> = {
  [bullmq.name]: bullmq,
  [beeQueue.name]: beeQueue,
  [redisRaw.name]: redisRaw,
  [sqsConsumer.name]: sqsConsumer,
  [sqsRaw.name]: sqsRaw,
};

export function rival(name: string): RivalPlugin {
  const plugin = RIVALS[name];
  if (!plugin) throw new Error(`unknown rival "${name}"; known: ${Object.keys(RIVALS).join(', ')}`);
  return plugin;
}
