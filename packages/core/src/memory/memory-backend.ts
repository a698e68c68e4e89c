import { randomUUID } from 'node:crypto';
import type {
  Backend,
  Capabilities,
  Inspector,
  PopOptions,
  RequeueOptions,
  StateCounts,
} from '../backend.js';
import { BackendClosedError, LeaseLostError } from '../errors.js';
import type { JobRecord, JobState, LeasedJobRecord, LeaseHandle, NewJob, PushResult } from '../job.js';
import { leaseExpiredError } from '../lease.js';
import { pageBounds } from '../paging.js';
import { assertJobState, assertLeaseMs, normalizePopOptions } from '../pop-options.js';
import { pollingWait, WakeSignal } from '../wait.js';

/** Stored state: `pending` is waiting or delayed depending on `runAt`. */
type StoredState = 'pending' | 'active' | 'completed' | 'dead';

interface StoredJob extends JobRecord {
  stored: StoredState;
  seq: number;
  leaseToken?: string;
  leaseExpiresAt?: number;
}

/** One in-process store. `memory:NAME` URLs share a store by name within a process (tests, tiny apps). */
class MemoryStore {
  readonly jobs = new Map<string, StoredJob>();
  /** the same jobs by queue, so a pop or an inspection touches only its own queues */
  private readonly queues = new Map<string, Map<string, StoredJob>>();
  readonly unique = new Map<string, string>();
  readonly wake = new WakeSignal();
  seq = 0;

  add(job: StoredJob): void {
    this.jobs.set(job.id, job);
    let q = this.queues.get(job.queue);
    if (!q) {
      q = new Map();
      this.queues.set(job.queue, q);
    }
    q.set(job.id, job);
  }

  delete(job: StoredJob): void {
    this.jobs.delete(job.id);
    const q = this.queues.get(job.queue);
    q?.delete(job.id);
    if (q?.size === 0) this.queues.delete(job.queue);
  }

  *jobsOf(queues: Iterable<string>): Generator<StoredJob> {
    for (const name of queues) yield* this.queues.get(name)?.values() ?? [];
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }
}

/** pop order: priority DESC, runAt ASC, insertion ASC */
const popOrder = (a: StoredJob, b: StoredJob) =>
  b.priority - a.priority || a.runAt.getTime() - b.runAt.getTime() || a.seq - b.seq;

const namedStores = new Map<string, MemoryStore>();

const CAPABILITIES: Capabilities = {
  priorities: true,
  delays: true,
  uniqueKeys: true,
  extend: true,
  nativeWait: true,
  multiProcess: false,
  durable: false,
  leaseGranularityMs: 1,
  inspect: { counts: true, list: true, retryDead: true, deleteJobs: true, purge: true },
};

const uniqueSlot = (queue: string, key: string) => `${queue}\u0000${key}`;

function copy(job: StoredJob, state: JobState): JobRecord {
  const out: JobRecord = {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    runAt: new Date(job.runAt),
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    createdAt: new Date(job.createdAt),
    state,
  };
  if (job.uniqueKey !== undefined) out.uniqueKey = job.uniqueKey;
  if (job.backoff !== undefined) out.backoff = { ...job.backoff };
  if (job.lastError !== undefined) out.lastError = { ...job.lastError, at: new Date(job.lastError.at) };
  return out;
}

/**
 * The in-memory backend: the whole contract with nothing persisted. It is the reference the
 * conformance suite proves itself on, and handy for unit tests of handlers.
 */
export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly capabilities = CAPABILITIES;
  readonly inspector: Inspector;
  private readonly store: MemoryStore;
  private closed = false;

  constructor(store = new MemoryStore()) {
    this.store = store;
    this.inspector = new MemoryInspector(this.store, () => this.assertOpen());
  }

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    const s = this.store;
    const results: PushResult[] = [];
    const now = Date.now();
    for (const job of jobs) {
      if (job.uniqueKey !== undefined) {
        const holder = s.unique.get(uniqueSlot(job.queue, job.uniqueKey));
        if (holder !== undefined) {
          results.push({ id: holder, duplicate: true });
          continue;
        }
      }
      const seq = ++s.seq;
      const id = String(seq);
      const stored: StoredJob = {
        ...job,
        id,
        attemptsMade: 0,
        createdAt: new Date(now),
        stored: 'pending',
        seq,
      };
      s.add(stored);
      if (job.uniqueKey !== undefined) s.unique.set(uniqueSlot(job.queue, job.uniqueKey), id);
      results.push({ id, duplicate: false });
    }
    s.wake.notify();
    return results;
  }

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs, signal } = normalizePopOptions(options);
    // a pop still waiting when close() is called ends with nothing rather than leasing jobs
    const attempt = async () => (this.closed ? [] : this.popNow(queues, max, leaseMs));
    if (!waitMs) return attempt();
    return pollingWait({
      attempt,
      waitMs,
      signal: signal,
      wake: this.store.wake,
      nextDueAt: async () => this.nextDueAt(queues),
      // pushes always ring the doorbell, so polling is only for delays and lease expiries
      minPollMs: 50,
      maxPollMs: 1000,
    });
  }

  private popNow(queues: readonly string[], max: number, leaseMs: number): LeasedJobRecord[] {
    const now = Date.now();
    const wanted = new Set(queues);
    reclaimExpired(this.store, now, wanted);
    // keep only the best `max` candidates (sorted) instead of sorting the whole backlog
    const best: StoredJob[] = [];
    for (const job of this.store.jobsOf(wanted)) {
      if (job.stored !== 'pending' || job.runAt.getTime() > now) continue;
      if (best.length === max && popOrder(job, best[max - 1]!) >= 0) continue;
      let i = best.length;
      while (i > 0 && popOrder(job, best[i - 1]!) < 0) i--;
      best.splice(i, 0, job);
      if (best.length > max) best.pop();
    }
    return best.map((job) => {
      job.stored = 'active';
      job.attemptsMade += 1;
      job.leaseToken = randomUUID();
      job.leaseExpiresAt = now + leaseMs;
      return {
        ...copy(job, 'active'),
        lease: { token: job.leaseToken, expiresAt: new Date(job.leaseExpiresAt) },
      };
    });
  }

  private nextDueAt(queues: readonly string[]): number | undefined {
    let next: number | undefined;
    for (const job of this.store.jobsOf(new Set(queues))) {
      const t =
        job.stored === 'pending'
          ? job.runAt.getTime()
          : job.stored === 'active'
            ? job.leaseExpiresAt
            : undefined;
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    const [lost] = await this.ackMany([handle]);
    if (lost) throw lost;
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    return handles.map((handle) => {
      try {
        const job = this.leased(handle);
        this.store.delete(job);
        if (job.uniqueKey !== undefined) this.store.unique.delete(uniqueSlot(job.queue, job.uniqueKey));
        return null;
      } catch (err) {
        if (err instanceof LeaseLostError) return err;
        throw err;
      }
    });
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const job = this.leased(handle);
    delete job.leaseToken;
    delete job.leaseExpiresAt;
    if (options.release) {
      job.attemptsMade = Math.max(0, job.attemptsMade - 1);
    } else if (options.error) {
      job.lastError = { ...options.error };
    }
    if (options.dead && !options.release) {
      toDead(this.store, job);
    } else {
      job.stored = 'pending';
      job.runAt = options.runAt ? new Date(options.runAt) : new Date();
    }
    this.store.wake.notify();
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    assertLeaseMs(leaseMs, 'extend leaseMs');
    const job = this.leased(handle);
    job.leaseExpiresAt = Date.now() + leaseMs;
    return new Date(job.leaseExpiresAt);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.store.wake.notify();
  }

  /** The job iff `handle` holds its current, unexpired lease. */
  private leased(handle: LeaseHandle): StoredJob {
    const job = this.store.jobs.get(handle.id);
    if (
      job?.stored !== 'active' ||
      job.leaseToken !== handle.lease.token ||
      (job.leaseExpiresAt ?? 0) <= Date.now()
    ) {
      throw new LeaseLostError(handle.id);
    }
    return job;
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError('memory backend');
  }
}

function toDead(store: MemoryStore, job: StoredJob): void {
  job.stored = 'dead';
  if (job.uniqueKey !== undefined) store.unique.delete(uniqueSlot(job.queue, job.uniqueKey));
}

/** Expired leases make the job available again with the attempt counted, or dead when attempts are used up. */
function reclaimExpired(store: MemoryStore, now: number, queues: ReadonlySet<string>): void {
  for (const job of store.jobsOf(queues)) {
    if (job.stored !== 'active' || (job.leaseExpiresAt ?? 0) > now) continue;
    delete job.leaseToken;
    delete job.leaseExpiresAt;
    job.lastError = leaseExpiredError(job.attemptsMade, now);
    if (job.attemptsMade >= job.maxAttempts) {
      toDead(store, job);
    } else {
      job.stored = 'pending';
      job.runAt = new Date(now);
    }
  }
}

function publicState(job: StoredJob, now: number): JobState {
  if (job.stored === 'pending') return job.runAt.getTime() > now ? 'delayed' : 'waiting';
  return job.stored;
}

class MemoryInspector implements Inspector {
  constructor(
    private readonly store: MemoryStore,
    private readonly assertOpen: () => void,
  ) {}

  private jobsOf(queue: string): StoredJob[] {
    this.assertOpen();
    reclaimExpired(this.store, Date.now(), new Set([queue]));
    return [...this.store.jobsOf([queue])];
  }

  async queues(): Promise<string[]> {
    this.assertOpen();
    return this.store.queueNames().sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    const now = Date.now();
    const counts: StateCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };
    for (const job of this.jobsOf(queue)) counts[publicState(job, now)]++;
    return counts;
  }

  async list(
    queue: string,
    state: JobState,
    options: { offset?: number; limit?: number } = {},
  ): Promise<JobRecord[]> {
    assertJobState(state);
    const now = Date.now();
    const { offset, limit } = pageBounds(options);
    const jobs = this.jobsOf(queue).filter((j) => publicState(j, now) === state);
    if (state === 'waiting' || state === 'delayed' || state === 'active') {
      jobs.sort((a, b) => b.priority - a.priority || a.runAt.getTime() - b.runAt.getTime() || a.seq - b.seq);
    } else {
      jobs.sort((a, b) => b.seq - a.seq);
    }
    return jobs.slice(offset, offset + limit).map((j) => copy(j, state));
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    const job = this.jobsOf(queue).find((j) => j.id === id);
    return job ? copy(job, publicState(job, Date.now())) : undefined;
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    const wanted = ids ? new Set(ids) : undefined;
    let moved = 0;
    for (const job of this.jobsOf(queue)) {
      if (job.stored !== 'dead' || (wanted && !wanted.has(job.id))) continue;
      if (job.uniqueKey !== undefined) {
        const slot = uniqueSlot(queue, job.uniqueKey);
        // a newer live job took the key meanwhile: the dead one stays dead rather than break uniqueness
        if (this.store.unique.has(slot)) continue;
        this.store.unique.set(slot, job.id);
      }
      job.stored = 'pending';
      job.attemptsMade = 0;
      job.runAt = new Date();
      moved++;
    }
    if (moved > 0) this.store.wake.notify();
    return moved;
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    assertJobState(state, false);
    const now = Date.now();
    const wanted = ids ? new Set(ids) : undefined;
    let deleted = 0;
    for (const job of this.jobsOf(queue)) {
      if (publicState(job, now) !== state || (wanted && !wanted.has(job.id))) continue;
      this.remove(job);
      deleted++;
    }
    return deleted;
  }

  async purge(queue: string): Promise<number> {
    const jobs = this.jobsOf(queue);
    for (const job of jobs) this.remove(job);
    return jobs.length;
  }

  private remove(job: StoredJob): void {
    this.store.delete(job);
    if (
      job.uniqueKey !== undefined &&
      this.store.unique.get(uniqueSlot(job.queue, job.uniqueKey)) === job.id
    ) {
      this.store.unique.delete(uniqueSlot(job.queue, job.uniqueKey));
    }
  }
}

/** `memory:` → a fresh private store; `memory:NAME` → the store of that name in this process. */
export function createMemoryBackend(url = 'memory:'): MemoryBackend {
  const name = url.replace(/^memory:/i, '').replace(/^\/\//, '');
  if (!name) return new MemoryBackend();
  let store = namedStores.get(name);
  if (!store) {
    store = new MemoryStore();
    namedStores.set(name, store);
  }
  return new MemoryBackend(store);
}
