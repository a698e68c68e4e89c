import {
  assertJobState,
  type Inspector,
  type JobRecord,
  type JobState,
  type ListOptions,
  pageBounds,
  type StateCounts,
} from '@ilkkun/core';
import type { JobDoc, MongoBackend } from './mongodb-backend.js';
import { keyId, POP_SORT, publicState, toRecord } from './mongodb-backend.js';

/** Filter of the stored documents behind one public state (completed jobs are not kept). */
function stateFilter(queue: string, state: JobState, now: Date): Record<string, unknown> | undefined {
  switch (state) {
    case 'waiting':
      return { state: 'pending', queue, runAt: { $lte: now } };
    case 'delayed':
      return { state: 'pending', queue, runAt: { $gt: now } };
    case 'active':
      return { state: 'active', queue };
    case 'dead':
      return { state: 'dead', queue };
    case 'completed':
      return undefined;
  }
}

/**
 * Inspection for the CLI and dashboard. Counts and lists read the job documents, which are the
 * protocol's index: right after a racing update on FerretDB they can lag by one pop cycle.
 */
export class MongoInspector implements Inspector {
  constructor(private readonly backend: MongoBackend) {}

  private get jobs() {
    return this.backend.stores.jobs;
  }

  private async prepare(queue: string): Promise<void> {
    this.backend.assertOpen();
    await this.backend.reclaimExpired([queue], true);
  }

  async queues(): Promise<string[]> {
    this.backend.assertOpen();
    const names = await this.jobs.distinct('queue', {});
    return names.filter((n): n is string => typeof n === 'string').sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    await this.prepare(queue);
    const now = new Date();
    const [waiting, delayed, active, dead] = await Promise.all(
      (['waiting', 'delayed', 'active', 'dead'] as const).map((s) =>
        this.jobs.count(stateFilter(queue, s, now)!),
      ),
    );
    return { waiting: waiting!, delayed: delayed!, active: active!, completed: 0, dead: dead! };
  }

  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    assertJobState(state);
    const { offset, limit } = pageBounds(options);
    await this.prepare(queue);
    const filter = stateFilter(queue, state, new Date());
    if (!filter) return [];
    const sort = state === 'dead' ? ({ seq: -1 } as const) : POP_SORT;
    const docs = (await this.jobs.find(filter, { sort, skip: offset, limit })) as JobDoc[];
    return docs.map((d) => toRecord(d, state));
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    await this.prepare(queue);
    const doc = (await this.jobs.findOne({ _id: id, queue })) as JobDoc | null;
    return doc ? toRecord(doc, publicState(doc, Date.now())) : undefined;
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    await this.prepare(queue);
    const filter: Record<string, unknown> = { state: 'dead', queue };
    if (ids) filter['_id'] = { $in: [...ids] };
    const dead = (await this.jobs.find(filter, { sort: { seq: 1 } })) as JobDoc[];
    let moved = 0;
    const now = new Date();
    for (const job of dead) {
      if (job.uniqueKey !== undefined && job.uniqueKey !== null) {
        // a newer live job holds the key: the dead one stays dead rather than break uniqueness
        const took = await this.backend.stores.keys.insertOne({
          _id: keyId(queue, job.uniqueKey),
          jobId: job._id,
          at: now,
        });
        if (!took) continue;
      }
      // gen moves past any claim that a stale pop might still try to record for the old gen
      const matched = await this.jobs.updateOne(
        { _id: job._id, state: 'dead', gen: job.gen },
        { state: 'pending', attempts: 0, runAt: now, gen: job.gen + 1 },
      );
      if (matched > 0) moved++;
      else await this.backend.releaseKey(queue, job.uniqueKey, job._id);
    }
    if (moved > 0) this.backend.notify();
    return moved;
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    assertJobState(state, false);
    await this.prepare(queue);
    const filter = stateFilter(queue, state, new Date());
    if (!filter) return 0;
    if (ids) filter['_id'] = { $in: [...ids] };
    const docs = (await this.jobs.find(filter, { fields: ['_id', 'queue', 'uniqueKey'] })) as JobDoc[];
    // the state stays in the delete's filter: a job popped meanwhile is not deleted under its holder
    return this.remove(docs, { state: filter['state'] });
  }

  async purge(queue: string): Promise<number> {
    this.backend.assertOpen();
    return this.remove(
      (await this.jobs.find({ queue }, { fields: ['_id', 'queue', 'uniqueKey'] })) as JobDoc[],
    );
  }

  private async remove(docs: JobDoc[], also: Record<string, unknown> = {}): Promise<number> {
    if (docs.length === 0) return 0;
    const ids = docs.map((d) => d._id);
    const deleted = await this.jobs.deleteMany({ _id: { $in: ids }, ...also });
    // clean up after the jobs that really went (not one that changed state under the filter)
    const kept = new Set(
      Object.keys(also).length === 0
        ? []
        : (await this.jobs.find({ _id: { $in: ids } }, { fields: ['_id'] })).map((d) => d._id),
    );
    const gone = docs.filter((d) => !kept.has(d._id));
    await Promise.all(gone.map((d) => this.backend.releaseKey(d.queue, d.uniqueKey, d._id)));
    await this.backend.stores.fence.deleteMany({ jobId: { $in: gone.map((d) => d._id) } });
    return deleted;
  }
}
