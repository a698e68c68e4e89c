import {
  ConfigError,
  type Inspector,
  type JobRecord,
  type JobState,
  type ListOptions,
  pageBounds,
  type StateCounts,
} from '@ilkkun/core';
import { isJobId } from './keys.js';
import { decodeRecord, type Reply } from './records.js';
import { SCRIPTS } from './scripts/index.js';
import type { Store } from './store.js';

/** Ids per retry/delete script call, and jobs per purge call: bounded work per call. */
const CHUNK = 1000;
/** Values per job in a list reply: id, header, payload, lastError, attempts. */
const LIST_STRIDE = 5;
/** Upper bound on the calls of one bulk operation (a queue filling faster than it is purged). */
const MAX_ROUNDS = 100_000;

const STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'dead'];

/**
 * Inspection for the CLI and dashboard. Counts are five ZCARDs; listing pages through the state's
 * sorted set; everything that changes jobs is a script (atomic per call). Each call first does
 * the housekeeping a pop would (expired leases, due delayed jobs, retention), so it reports what
 * a pop would see.
 */
export class RedisInspector implements Inspector {
  constructor(
    private readonly store: Store,
    private readonly assertOpen: () => void,
  ) {}

  async queues(): Promise<string[]> {
    this.assertOpen();
    const names = await this.store.command('SMEMBERS', () => this.store.conn.smembers(this.store.registry));
    const sizes = await Promise.all(
      names.map(async (name) => {
        const k = this.store.queue(name).keys;
        const cards = await this.store.command('ZCARD', () =>
          Promise.all([k.wait, k.delay, k.active, k.done, k.dead].map((key) => this.store.conn.zcard(key))),
        );
        return cards.reduce((a, b) => a + b, 0);
      }),
    );
    return names.filter((_, i) => (sizes[i] ?? 0) > 0).sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    this.assertOpen();
    const r = (await this.store.run(SCRIPTS.counts, queue, [])) as Reply[];
    return {
      waiting: Number(r[0]),
      delayed: Number(r[1]),
      active: Number(r[2]),
      completed: Number(r[3]),
      dead: Number(r[4]),
    };
  }

  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    this.assertOpen();
    assertState(state);
    const { offset, limit } = pageBounds(options);
    const reply = (await this.store.run(SCRIPTS.list, queue, [state, offset, limit])) as Reply[];
    const out: JobRecord[] = [];
    for (let i = 0; i + LIST_STRIDE - 1 < reply.length; i += LIST_STRIDE) {
      out.push(decodeRecord(queue, String(reply[i]), reply, i + 1, this.store.clock, state));
    }
    return out;
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    this.assertOpen();
    this.store.queue(queue);
    if (!isJobId(id)) return undefined;
    const reply = (await this.store.run(SCRIPTS.getJob, queue, [id])) as Reply[];
    if (reply.length === 0) return undefined;
    return decodeRecord(queue, id, reply, 2, this.store.clock, String(reply[0]) as JobState);
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    this.assertOpen();
    if (ids) return this.inChunks(ids, (chunk) => this.store.run(SCRIPTS.retryDead, queue, chunk));
    // All dead jobs: walk the dead set by rank. Jobs that must stay dead (their uniqueKey is
    // taken) stay where they are, so the walk steps over them.
    const deadKey = this.store.queue(queue).keys.dead;
    let moved = 0;
    let skip = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const page = await this.store.command('ZRANGE', () =>
        this.store.conn.zrange(deadKey, String(skip), String(skip + CHUNK - 1)),
      );
      if (page.length === 0) break;
      const n = Number(await this.store.run(SCRIPTS.retryDead, queue, page));
      moved += n;
      skip += page.length - n;
      if (page.length < CHUNK) break;
    }
    return moved;
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    this.assertOpen();
    assertState(state);
    if ((state as JobState) === 'active') {
      throw new ConfigError('deleteJobs cannot delete active jobs (their workers hold leases); use purge');
    }
    if (ids)
      return this.inChunks(ids, (chunk) =>
        this.store.run(SCRIPTS.deleteJobs, queue, [state, CHUNK, ...chunk]),
      );
    let deleted = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const n = Number(await this.store.run(SCRIPTS.deleteJobs, queue, [state, CHUNK]));
      deleted += n;
      if (n < CHUNK) break;
    }
    return deleted;
  }

  async purge(queue: string): Promise<number> {
    this.assertOpen();
    this.store.queue(queue);
    // Registry entry first, jobs after: a push registers its queue after its script, so a push
    // of this process racing the purge either is deleted by it or re-registers the queue. Other
    // processes re-register within REGISTER_EVERY_MS (store.ts) of their next push.
    await this.store.command('SREM', () => this.store.conn.srem(this.store.registry, queue));
    this.store.markRegistered([queue], false);
    let removed = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const n = Number(await this.store.run(SCRIPTS.purge, queue, [CHUNK]));
      removed += n;
      if (n < CHUNK) break;
    }
    return removed;
  }

  private async inChunks(
    ids: readonly string[],
    call: (chunk: string[]) => Promise<unknown>,
  ): Promise<number> {
    const valid = [...new Set(ids)].filter(isJobId);
    let total = 0;
    for (let i = 0; i < valid.length; i += CHUNK) total += Number(await call(valid.slice(i, i + CHUNK)));
    return total;
  }
}

function assertState(state: string): asserts state is JobState {
  if (!(STATES as readonly string[]).includes(state)) {
    throw new ConfigError(`unknown job state "${state}"; known: ${STATES.join(', ')}`);
  }
}
