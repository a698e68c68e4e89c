import type { ResolvedSqsOptions } from './options.js';
import { defaultLevel } from './priority-levels.js';
import { baseName, deadQueueName, levelQueueName, nameFromUrl, parseSqsName } from './queue-names.js';
import type { SqsOps } from './sqs-ops.js';

/** Tag keys on every SQS queue the backend creates: SQS names are lossy, tags keep the truth. */
export const TAG_QUEUE = 'ilkkun:queue';
export const TAG_KIND = 'ilkkun:kind';

export interface LevelQueue {
  level: number;
  url: string;
}

interface LevelCache {
  levels: Map<number, string>;
  refreshedAt: number;
  refreshing?: Promise<void>;
}

/**
 * SQS queue URLs by ilkkun queue and level. Queues are created lazily — a level queue on the
 * first push to it, the default level on the first pop (so a long poll has something to wait on),
 * the dead queue when the first job dies — and URLs are cached for the life of the backend.
 * Which levels exist is learnt from ListQueues (other processes may have created levels) and
 * trusted for `levelRefreshMs`.
 */
export class QueueRegistry {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly levelCaches = new Map<string, LevelCache>();

  constructor(
    private readonly ops: SqsOps,
    private readonly options: ResolvedSqsOptions,
  ) {}

  base(queue: string): string {
    return baseName(this.options.prefix, queue);
  }

  private attributes(fifo: boolean): Record<string, string> {
    const attrs: Record<string, string> = {
      MaximumMessageSize: String(this.options.maxMessageBytes),
      MessageRetentionPeriod: String(this.options.retentionSeconds),
    };
    if (fifo) {
      attrs['FifoQueue'] = 'true';
      attrs['ContentBasedDeduplication'] = 'false';
      // uniqueKey de-duplication must span message groups: one group per job is the default
      attrs['DeduplicationScope'] = 'queue';
      attrs['FifoThroughputLimit'] = 'perQueue';
    }
    return attrs;
  }

  private ensure(name: string, fifo: boolean, tags: Record<string, string>): Promise<string> {
    let url = this.urls.get(name);
    if (!url) {
      url = this.ops.ensureQueue(name, this.attributes(fifo), tags);
      this.urls.set(name, url);
      // a failed create must not be cached: the next call tries again
      url.catch(() => this.urls.delete(name));
    }
    return url;
  }

  async levelUrl(queue: string, level: number): Promise<string> {
    const url = await this.ensure(
      levelQueueName(this.base(queue), level, this.options.fifo),
      this.options.fifo,
      {
        [TAG_QUEUE]: queue,
        [TAG_KIND]: `level:${level}`,
      },
    );
    const cache = this.levelCaches.get(queue);
    cache?.levels.set(level, url);
    return url;
  }

  async deadUrl(queue: string): Promise<string> {
    return this.ensure(deadQueueName(this.base(queue)), false, { [TAG_QUEUE]: queue, [TAG_KIND]: 'dead' });
  }

  /** The dead queue's URL if it exists (inspection must not create queues). */
  async existingDeadUrl(queue: string): Promise<string | undefined> {
    const all = await this.queuesOf(queue);
    return all.dead;
  }

  /** Every SQS queue of one ilkkun queue, as SQS lists them now. */
  async queuesOf(queue: string): Promise<{ levels: LevelQueue[]; dead?: string }> {
    const base = this.base(queue);
    const levels: LevelQueue[] = [];
    let dead: string | undefined;
    for (const url of await this.ops.listQueues(`${base}-`)) {
      const parsed = parseSqsName(this.options.prefix, nameFromUrl(url));
      if (!parsed || parsed.base !== base) continue;
      if (parsed.kind.kind === 'dead') dead = url;
      else if (parsed.kind.fifo === this.options.fifo) levels.push({ level: parsed.kind.level, url });
    }
    levels.sort((a, b) => b.level - a.level);
    return dead === undefined ? { levels } : { levels, dead };
  }

  /**
   * The level queues to pop from, highest level first. The default level's queue is created if
   * missing; other levels come from the cache, refreshed from ListQueues when older than
   * `levelRefreshMs`.
   */
  async popLevels(queue: string): Promise<LevelQueue[]> {
    let cache = this.levelCaches.get(queue);
    if (!cache) {
      cache = { levels: new Map(), refreshedAt: 0 };
      this.levelCaches.set(queue, cache);
    }
    const c = cache;
    if (!c.levels.has(defaultLevel(this.options.priorities))) {
      await this.levelUrl(queue, defaultLevel(this.options.priorities));
    }
    if (Date.now() - c.refreshedAt >= this.options.levelRefreshMs) {
      c.refreshing ??= this.queuesOf(queue)
        .then(({ levels }) => {
          for (const { level, url } of levels) c.levels.set(level, url);
          c.refreshedAt = Date.now();
        })
        .finally(() => {
          c.refreshing = undefined;
        });
      await c.refreshing;
    }
    return [...c.levels.entries()].map(([level, url]) => ({ level, url })).sort((a, b) => b.level - a.level);
  }

  /** A queue vanished (deleted by an operator or a test cleanup): forget its URL so it is created again. */
  forget(url: string): void {
    const name = nameFromUrl(url);
    this.urls.delete(name);
    for (const cache of this.levelCaches.values()) {
      for (const [level, u] of cache.levels) if (u === url) cache.levels.delete(level);
    }
  }

  /** Every SQS queue of this prefix: `{ base → urls }` (inspection). */
  async allBases(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const url of await this.ops.listQueues(`${this.options.prefix}-`)) {
      const parsed = parseSqsName(this.options.prefix, nameFromUrl(url));
      if (!parsed) continue;
      const list = out.get(parsed.base) ?? [];
      list.push(url);
      out.set(parsed.base, list);
    }
    return out;
  }
}
