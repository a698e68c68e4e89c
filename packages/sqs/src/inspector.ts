import {
  assertJobState,
  assertQueueName,
  type Inspector,
  type JobRecord,
  type JobState,
  type ListOptions,
  pageBounds,
  type StateCounts,
  UnsupportedFeatureError,
} from '@ilkkun/core';
import { decodeMessage, type StoredJob, toRecord } from './attributes.js';
import { levelOf } from './priority-levels.js';
import { TAG_QUEUE } from './queue-registry.js';
import type { SqsBackend } from './sqs-backend.js';

/** Dead-queue messages received for one inspection call are hidden this long (then handed back). */
const SCAN_VISIBILITY_SECONDS = 30;
/** An inspection call reads at most this many dead jobs (a bounded loop; the rest stay untouched). */
export const SCAN_MAX = 10_000;

interface Scanned {
  handle: string;
  job: StoredJob;
}

const WHY_DEAD_ONLY =
  'SQS cannot read waiting, delayed or in-flight messages without receiving them (which would hide them from workers and count a delivery); only dead jobs, kept in the backend’s own dead queue, can be listed';

/**
 * Inspection on SQS.
 * - `counts`: GetQueueAttributes of every level queue plus the dead queue. SQS calls these numbers
 *   approximate: exact on fauxqs, eventually consistent (up to about a minute behind) on AWS.
 * - `list`, `getJob`, `deleteJobs`: dead jobs only (see WHY_DEAD_ONLY); other states throw
 *   `UnsupportedFeatureError`, and the capability flags (which mean all states) stay false.
 * - `retryDead`: moves dead jobs back to their level queue with their attempts reset.
 * - `purge`: PurgeQueue on every SQS queue of the ilkkun queue (on AWS at most once per 60 s per
 *   queue, and it may take up to 60 s; fauxqs purges at once).
 * Reading the dead queue receives its messages for a moment (30 s visibility, handed back at the
 * end), so two inspections of one dead queue at the same time may each see part of it.
 */
export class SqsInspector implements Inspector {
  constructor(private readonly backend: SqsBackend) {}

  async queues(): Promise<string[]> {
    this.backend.ensureOpen();
    const { ops, registry } = this.backend;
    const names = new Set<string>();
    for (const urls of (await registry.allBases()).values()) {
      const counts = await Promise.all(urls.map((u) => ops.counts(u)));
      if (!counts.some((c) => c.visible + c.inFlight + c.delayed > 0)) continue;
      const name = (await ops.tags(urls[0]!))[TAG_QUEUE];
      if (name !== undefined) names.add(name);
    }
    return [...names].sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    const { ops, registry } = this.backend;
    const { levels, dead } = await registry.queuesOf(queue);
    const out: StateCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };
    const levelCounts = await Promise.all(levels.map((l) => ops.counts(l.url)));
    for (const c of levelCounts) {
      out.waiting += c.visible;
      out.delayed += c.delayed;
      out.active += c.inFlight;
    }
    if (dead) {
      const c = await ops.counts(dead);
      out.dead = c.visible + c.inFlight + c.delayed;
    }
    return out;
  }

  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    assertJobState(state);
    const { offset, limit } = pageBounds(options);
    if (state === 'completed') return [];
    if (state !== 'dead') throw new UnsupportedFeatureError(`listing ${state} jobs`, 'sqs', WHY_DEAD_ONLY);
    return this.withDead(queue, async (items) =>
      items
        .sort((a, b) => (b.job.deadAt ?? 0) - (a.job.deadAt ?? 0) || b.job.seq - a.job.seq)
        .slice(offset, offset + limit)
        .map((i) => deadRecord(i.job)),
    );
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    const found = await this.withDead(queue, async (items) => items.find((i) => i.job.id === id));
    if (found) return deadRecord(found.job);
    throw new UnsupportedFeatureError('looking up a job that is not dead', 'sqs', WHY_DEAD_ONLY);
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    const wanted = ids ? new Set(ids) : undefined;
    const { registry, options } = this.backend;
    return this.withDead(queue, async (items, url, keep) => {
      let moved = 0;
      await Promise.all(
        items.map(async (item) => {
          if (wanted && !wanted.has(item.job.id)) return;
          const { deadAt: _deadAt, ...rest } = item.job;
          const job: StoredJob = { ...rest, attemptsBefore: 0, runAt: Date.now() };
          const levelUrl = await registry.levelUrl(queue, levelOf(job.priority, options.priorities));
          await this.backend.sendMessage(levelUrl, this.backend.outgoingFor(job));
          await this.backend.deleteMessage(url, item.handle);
          keep(item);
          moved++;
        }),
      );
      return moved;
    });
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    assertJobState(state, false);
    if (state === 'completed') return 0;
    if (state !== 'dead') throw new UnsupportedFeatureError(`deleting ${state} jobs`, 'sqs', WHY_DEAD_ONLY);
    const wanted = ids ? new Set(ids) : undefined;
    return this.withDead(queue, async (items, url, keep) => {
      const doomed = items.filter((i) => !wanted || wanted.has(i.job.id));
      await Promise.all(doomed.map((i) => this.backend.deleteMessage(url, i.handle)));
      for (const i of doomed) keep(i);
      return doomed.length;
    });
  }

  async purge(queue: string): Promise<number> {
    this.backend.ensureOpen();
    assertQueueName(queue);
    const { ops, registry, leases } = this.backend;
    const { levels, dead } = await registry.queuesOf(queue);
    const urls = [...levels.map((l) => l.url), ...(dead ? [dead] : [])];
    const counts = await Promise.all(urls.map((u) => ops.counts(u)));
    await Promise.all(urls.map((u) => ops.purge(u)));
    // leases this process holds on the queue are void now (SQS would silently accept their deletes)
    leases.bumpEpoch(queue);
    this.backend.prefetch.removeWhere((r) => r.queue === queue);
    return counts.reduce((n, c) => n + c.visible + c.inFlight + c.delayed, 0);
  }

  /**
   * Receive the whole dead queue (bounded by SCAN_MAX), run `action`, then hand back every message
   * the action did not consume (`keep(item)` marks one as consumed).
   */
  private async withDead<T>(
    queue: string,
    action: (items: Scanned[], url: string, consumed: (item: Scanned) => void) => Promise<T>,
  ): Promise<T> {
    const { ops, registry } = this.backend;
    const url = await registry.existingDeadUrl(queue);
    if (!url) return action([], '', () => undefined);
    const hint = (await ops.counts(url)).visible;
    const items: Scanned[] = [];
    for (let round = 0; round < SCAN_MAX / 10 && items.length < SCAN_MAX; round++) {
      // short polls first; AWS samples servers on a short poll, so while fewer messages came back
      // than SQS counts, ask with a 1 s long poll (which queries all of them)
      const waitSeconds = items.length < hint ? 1 : 0;
      const r = await ops.receive(url, 10, SCAN_VISIBILITY_SECONDS, waitSeconds);
      for (const m of r.messages)
        items.push({ handle: m.ReceiptHandle ?? '', job: decodeMessage(m, queue, 0) });
      if (r.messages.length === 0) break;
    }
    const consumed = new Set<Scanned>();
    try {
      return await action(items, url, (item) => consumed.add(item));
    } finally {
      const back = items.filter((i) => !consumed.has(i)).map((i) => i.handle);
      if (back.length > 0) await ops.releaseBatch(url, back);
    }
  }
}

function deadRecord(job: StoredJob): JobRecord {
  return { ...toRecord(job, job.attemptsBefore), state: 'dead' };
}
