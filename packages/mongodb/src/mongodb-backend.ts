import { randomBytes } from 'node:crypto';
import {
  assertLeaseMs,
  type Backend,
  BackendClosedError,
  BackendUnavailableError,
  type BackoffOptions,
  type Capabilities,
  type JobError,
  type JobRecord,
  type JobState,
  type LeasedJobRecord,
  type LeaseHandle,
  LeaseLostError,
  leaseExpiredError,
  type NewJob,
  normalizePopOptions,
  type PopOptions,
  type PushResult,
  pollingWait,
  type RequeueOptions,
  WakeSignal,
} from '@ilkkun/core';
import { MongoInspector } from './inspector.js';
import type { ResolvedMongoOptions } from './options.js';
import type { Doc, DocStores } from './store.js';

/**
 * Job document (collection `<prefix>_jobs`). The job document is an *index* for finding work;
 * who holds a job and how each claim ended is decided by unique inserts into `<prefix>_fence`:
 *
 * - claim g of job J inserts `L:J:g` (the lease: token, deadline, attempt). Only one claimer's
 *   insert succeeds. The job document is then updated to `active, gen=g` (a follow-up hint).
 * - claim g ends exactly once, by inserting `O:J:g` (the outcome: ack, requeue, dead or lease
 *   expired, with the state the job moves to). Ack, requeue and the expiry reclaimer race for
 *   that insert; the loser gets `LeaseLostError` (or does nothing). The winner then applies the
 *   outcome to the job document; anyone who later meets the outcome re-applies it (idempotent).
 * - a claimer only inserts `L:J:g+1` after reading the job as `pending, gen=g`, which is written
 *   only after `O:J:g` exists; if the job document is stale (a lost update), the insert of
 *   `L:J:g+1` collides with the real lease and the claimer repairs the document instead.
 *
 * The full argument, with every interleaving, is in docs/backends/mongodb.md.
 */
export interface JobDoc extends Doc {
  queue: string;
  payload: string;
  priority: number;
  runAt: Date;
  seq: number;
  state: StoredState;
  attempts: number;
  maxAttempts: number;
  /** claims so far (never reset; `retryDead` moves it past any stale lease) */
  gen: number;
  uniqueKey?: string;
  /** JSON text */
  backoff?: string;
  createdAt: Date;
  /** JSON text of the JobError (`at` as ISO text) */
  lastError?: string;
  leaseToken?: string;
  leaseExpiresAt?: Date;
  /** when the job went dead (for `keepDeadMs`) */
  deadAt?: Date;
}

/** `pending` is waiting or delayed by `runAt`; completed jobs are deleted at ack. */
export type StoredState = 'pending' | 'active' | 'dead';

interface LeaseDoc extends Doc {
  jobId: string;
  gen: number;
  attempt: number;
  maxAttempts: number;
  token: string;
  expiresAt: Date;
  claimedAt: Date;
  queue: string;
  uniqueKey?: string;
}

interface OutcomeDoc extends Doc {
  jobId: string;
  gen: number;
  kind: 'ack' | 'requeue' | 'expired';
  at: Date;
  queue: string;
  uniqueKey?: string;
  /** for requeue/expired: the state the job moves to */
  nextState?: StoredState;
  nextRunAt?: Date;
  nextAttempts?: number;
  nextLastError?: string;
}

export const POP_SORT = { priority: -1, runAt: 1, seq: 1 } as const;

export const leaseId = (jobId: string, gen: number) => `L:${jobId}:${gen}`;
export const outcomeId = (jobId: string, gen: number) => `O:${jobId}:${gen}`;
export const keyId = (queue: string, uniqueKey: string) => JSON.stringify([queue, uniqueKey]);

/** A claim younger than this that collides is plain contention, not something to repair. */
const FRESH_CLAIM_MS = 2000;
/** A held unique key whose job does not exist is treated as stale only after this long. */
const STALE_KEY_MS = 30_000;
/** Expired-lease scans run at most this often per backend instance (and on every inspection call). */
const RECLAIM_EVERY_MS = 1000;
/** With `keepDeadMs`, old dead jobs are deleted at most this often per instance, this many at a time. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 1000;

const CAPABILITIES: Capabilities = {
  priorities: true,
  delays: true,
  uniqueKeys: true,
  extend: true,
  nativeWait: false,
  multiProcess: true,
  durable: true,
  leaseGranularityMs: 1,
  inspect: { counts: true, list: true, retryDead: true, deleteJobs: true, purge: true },
};

/** Pushes made in this process wake pops of every backend instance on the same namespace. */
const wakeSignals = new Map<string, WakeSignal>();

let lastSeq = 0;
/** Insertion order: monotonic in this process, time-ordered across processes. */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1024);
  return lastSeq;
}

const newId = () => randomBytes(12).toString('hex');
const newToken = (gen: number) => `${gen}.${randomBytes(12).toString('hex')}`;

function tokenGen(token: string): number | undefined {
  const dot = token.indexOf('.');
  const gen = Number(token.slice(0, dot));
  return dot > 0 && Number.isSafeInteger(gen) && gen > 0 ? gen : undefined;
}

export function encodeError(error: JobError): string {
  return JSON.stringify({ ...error, at: error.at.toISOString() });
}

function decodeError(text: string | undefined): JobError | undefined {
  if (text === undefined) return undefined;
  const raw = JSON.parse(text) as Omit<JobError, 'at'> & { at: string };
  return { ...raw, at: new Date(raw.at) };
}

export function publicState(doc: JobDoc, now: number): JobState {
  if (doc.state === 'pending') return doc.runAt.getTime() > now ? 'delayed' : 'waiting';
  return doc.state;
}

export function toRecord(doc: JobDoc, state: JobState): JobRecord {
  const out: JobRecord = {
    id: doc._id,
    queue: doc.queue,
    payload: doc.payload,
    priority: doc.priority,
    runAt: new Date(doc.runAt),
    attemptsMade: doc.attempts,
    maxAttempts: doc.maxAttempts,
    createdAt: new Date(doc.createdAt),
    state,
  };
  if (doc.uniqueKey !== undefined && doc.uniqueKey !== null) out.uniqueKey = doc.uniqueKey;
  if (doc.backoff !== undefined && doc.backoff !== null)
    out.backoff = JSON.parse(doc.backoff) as BackoffOptions;
  const lastError = decodeError(doc.lastError ?? undefined);
  if (lastError) out.lastError = lastError;
  return out;
}

/**
 * The MongoDB backend. One code path for MongoDB and FerretDB: exclusion comes only from
 * unique `_id` inserts, which both enforce; nothing depends on `findOneAndUpdate` being atomic.
 */
export class MongoBackend implements Backend {
  readonly name = 'mongodb';
  readonly capabilities = CAPABILITIES;
  readonly inspector: MongoInspector;
  private closed = false;
  private lastReclaim = 0;
  private lastPrune = 0;
  private readonly wake: WakeSignal;

  constructor(
    readonly stores: DocStores,
    readonly options: ResolvedMongoOptions,
    wakeKey: string,
  ) {
    let wake = wakeSignals.get(wakeKey);
    if (!wake) {
      wake = new WakeSignal();
      wakeSignals.set(wakeKey, wake);
    }
    this.wake = wake;
    this.inspector = new MongoInspector(this);
  }

  /** Create the indexes (idempotent: the same name and keys again is a no-op on both servers). */
  async ensureIndexes(): Promise<void> {
    const { jobs, fence } = this.stores;
    await jobs.createIndex('ilkkun_claim', { state: 1, queue: 1, priority: -1, runAt: 1, seq: 1 });
    await jobs.createIndex('ilkkun_reclaim', { state: 1, queue: 1, leaseExpiresAt: 1 });
    await fence.createIndex('ilkkun_fence_job', { jobId: 1 });
  }

  notify(): void {
    this.wake.notify();
  }

  assertOpen(): void {
    if (this.closed) throw new BackendClosedError(`mongodb backend (${this.stores.label})`);
  }

  // ---------------------------------------------------------------- push

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    if (jobs.length === 0) return [];
    const now = new Date();
    const results: Array<PushResult | undefined> = new Array(jobs.length);
    const docs: JobDoc[] = jobs.map((job) => {
      const doc: JobDoc = {
        _id: newId(),
        queue: job.queue,
        payload: job.payload,
        priority: job.priority,
        runAt: new Date(job.runAt),
        seq: nextSeq(),
        state: 'pending',
        attempts: 0,
        maxAttempts: job.maxAttempts,
        gen: 0,
        createdAt: now,
      };
      if (job.uniqueKey !== undefined) doc.uniqueKey = job.uniqueKey;
      if (job.backoff !== undefined) doc.backoff = JSON.stringify(job.backoff);
      return doc;
    });

    // unique keys first: the key document's insert decides who holds the key
    const firstWithKey = new Map<string, number>();
    const keyed: number[] = [];
    const mates: Array<[number, number]> = [];
    docs.forEach((doc, i) => {
      if (doc.uniqueKey === undefined) return;
      const k = keyId(doc.queue, doc.uniqueKey);
      const first = firstWithKey.get(k);
      if (first !== undefined) mates.push([i, first]);
      else {
        firstWithKey.set(k, i);
        keyed.push(i);
      }
    });
    if (keyed.length > 0) {
      const keyDocs = keyed.map((i) => ({
        _id: keyId(docs[i]!.queue, docs[i]!.uniqueKey!),
        jobId: docs[i]!._id,
        at: now,
      }));
      const dups = await this.stores.keys.insertMany(keyDocs);
      for (const d of dups) {
        const i = keyed[d]!;
        const holder = await this.acquireKey(docs[i]!, now);
        if (holder !== undefined) results[i] = { id: holder, duplicate: true };
      }
    }

    // a later job of this batch with the same key is a duplicate of whoever holds it now
    for (const [i, first] of mates)
      results[i] = { id: results[first]?.id ?? docs[first]!._id, duplicate: true };

    const toInsert = docs.filter((_, i) => results[i] === undefined);
    if (toInsert.length > 0) {
      let dups: Set<number>;
      try {
        dups = await this.stores.jobs.insertMany(toInsert);
      } catch (err) {
        // give back the keys of jobs that did not get written, so a retried push is not reported
        // as a duplicate of nothing (if even that fails, the keys go stale and are taken over)
        const ours = toInsert.filter((d) => d.uniqueKey !== undefined);
        if (ours.length > 0) {
          await (async () => {
            const ids = ours.map((d) => d._id);
            const written = await this.stores.jobs.find({ _id: { $in: ids } }, { fields: ['_id'] });
            const present = new Set(written.map((d) => d._id));
            const lost = ours.filter((d) => !present.has(d._id));
            await Promise.all(lost.map((d) => this.releaseKey(d.queue, d.uniqueKey, d._id)));
          })().catch(() => undefined);
        }
        throw err;
      }
      if (dups.size > 0) throw new BackendUnavailableError('generated job id collided; retry the push');
    }
    this.wake.notify();
    return docs.map((doc, i) => results[i] ?? { id: doc._id, duplicate: false });
  }

  /**
   * The key is held by someone: return the holder's id, or take the key over when the holder is
   * gone (its job finished or never got written, e.g. a crash between the two inserts) and
   * return undefined.
   */
  private async acquireKey(doc: JobDoc, now: Date): Promise<string | undefined> {
    const k = keyId(doc.queue, doc.uniqueKey!);
    for (let tries = 0; tries < 3; tries++) {
      const held = await this.stores.keys.findOne({ _id: k });
      if (!held) {
        if (await this.stores.keys.insertOne({ _id: k, jobId: doc._id, at: now })) return undefined;
        continue;
      }
      const holderId = held['jobId'] as string;
      const holder = (await this.stores.jobs.findOne({ _id: holderId })) as JobDoc | null;
      const live = holder !== null && holder.state !== 'dead';
      const young = now.getTime() - (held['at'] as Date).getTime() < STALE_KEY_MS;
      if (live || (holder === null && young)) return holderId;
      await this.stores.keys.deleteMany({ _id: k, jobId: holderId });
    }
    const held = await this.stores.keys.findOne({ _id: k });
    if (held) return held['jobId'] as string;
    throw new BackendUnavailableError(
      `unique key of queue ${doc.queue} changed hands repeatedly; retry the push`,
    );
  }

  async releaseKey(queue: string, uniqueKey: string | undefined | null, jobId: string): Promise<void> {
    if (uniqueKey === undefined || uniqueKey === null) return;
    await this.stores.keys.deleteMany({ _id: keyId(queue, uniqueKey), jobId });
  }

  // ---------------------------------------------------------------- pop

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs, signal } = normalizePopOptions(options);
    if (queues.length === 0) return [];
    // a pop still waiting when close() is called ends with nothing rather than a driver error
    const attempt = async () => {
      if (this.closed) return [];
      try {
        return await this.popNow(queues, max, leaseMs);
      } catch (err) {
        if (this.closed) return [];
        throw err;
      }
    };
    if (!waitMs) return attempt();
    return pollingWait({
      attempt,
      waitMs,
      signal,
      wake: this.wake,
      minPollMs: this.options.pollMinMs,
      maxPollMs: this.options.pollMaxMs,
    });
  }

  private async popNow(queues: readonly string[], max: number, leaseMs: number): Promise<LeasedJobRecord[]> {
    await this.reclaimExpired(queues, false);
    const got: LeasedJobRecord[] = [];
    const tried = new Set<string>();
    for (let round = 0; round < 5 && got.length < max; round++) {
      const need = max - got.length;
      const limit = need + 8 + round * 16;
      const candidates = (await this.stores.jobs.find(
        { state: 'pending', queue: { $in: [...queues] }, runAt: { $lte: new Date() } },
        { sort: POP_SORT, limit },
      )) as JobDoc[];
      const fresh = candidates.filter((c) => !tried.has(`${c._id}:${c.gen}`));
      if (fresh.length === 0) break;
      let lost = false;
      // claim `need` at a time, in pop order, until enough were won or candidates run out
      for (let i = 0; i < fresh.length && got.length < max; ) {
        const batch = fresh.slice(i, i + (max - got.length));
        i += batch.length;
        const won = await Promise.all(
          batch.map((c) => {
            tried.add(`${c._id}:${c.gen}`);
            return this.tryClaim(c, leaseMs);
          }),
        );
        for (const w of won) {
          if (w) got.push(w);
          else lost = true;
        }
      }
      if (!lost && candidates.length < limit) break;
    }
    return got;
  }

  /** Insert the lease for the next claim of `c`; on success mark the job active (a hint). */
  private async tryClaim(c: JobDoc, leaseMs: number): Promise<LeasedJobRecord | undefined> {
    const gen = c.gen + 1;
    const attempt = c.attempts + 1;
    const now = Date.now();
    const token = newToken(gen);
    const expiresAt = new Date(now + leaseMs);
    const lease: LeaseDoc = {
      _id: leaseId(c._id, gen),
      jobId: c._id,
      gen,
      attempt,
      maxAttempts: c.maxAttempts,
      token,
      expiresAt,
      claimedAt: new Date(now),
      queue: c.queue,
    };
    if (c.uniqueKey !== undefined && c.uniqueKey !== null) lease.uniqueKey = c.uniqueKey;
    if (!(await this.stores.fence.insertOne(lease))) {
      await this.resolveCollision(c, gen);
      return undefined;
    }
    const matched = await this.stores.jobs.updateOne(
      { _id: c._id, gen: c.gen, state: 'pending' },
      { state: 'active', gen, attempts: attempt, leaseToken: token, leaseExpiresAt: expiresAt },
    );
    if (matched === 0) {
      // the job was deleted, or moved on (retryDead) after we read it: the claim is void
      await this.stores.fence.deleteMany({ _id: lease._id, token });
      return undefined;
    }
    return {
      ...toRecord({ ...c, attempts: attempt }, 'active'),
      lease: { token, expiresAt },
    };
  }

  /** `L:J:gen` already exists: plain contention, or a stale job document to repair. */
  private async resolveCollision(c: JobDoc, gen: number): Promise<void> {
    const lease = (await this.stores.fence.findOne({ _id: leaseId(c._id, gen) })) as LeaseDoc | null;
    if (!lease) return;
    const now = Date.now();
    if (lease.expiresAt.getTime() > now && now - lease.claimedAt.getTime() < FRESH_CLAIM_MS) return;
    const outcome = (await this.stores.fence.findOne({ _id: outcomeId(c._id, gen) })) as OutcomeDoc | null;
    if (outcome) {
      await this.applyOutcome(outcome);
    } else if (lease.expiresAt.getTime() > now) {
      // the claimer's "active" update was lost: restore it so pops stop tripping over the job
      await this.stores.jobs.updateOne(
        { _id: c._id, gen: c.gen, state: 'pending' },
        {
          state: 'active',
          gen,
          attempts: lease.attempt,
          leaseToken: lease.token,
          leaseExpiresAt: lease.expiresAt,
        },
      );
    } else {
      await this.expireClaim(
        lease.jobId,
        gen,
        lease.attempt,
        lease.maxAttempts,
        lease.queue,
        lease.uniqueKey,
      );
    }
  }

  /** Find jobs whose lease ran out and end those claims ("lease expired"). */
  async reclaimExpired(queues: readonly string[], force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastReclaim < RECLAIM_EVERY_MS) return;
    this.lastReclaim = now;
    if (this.options.keepDeadMs > 0 && now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.pruneDead(queues, new Date(now - this.options.keepDeadMs));
    }
    const expired = (await this.stores.jobs.find(
      { state: 'active', queue: { $in: [...queues] }, leaseExpiresAt: { $lte: new Date(now) } },
      { limit: 100 },
    )) as JobDoc[];
    for (const job of expired) {
      const lease = (await this.stores.fence.findOne({ _id: leaseId(job._id, job.gen) })) as LeaseDoc | null;
      if (lease && lease.expiresAt.getTime() > Date.now()) {
        // extended; the hint on the job document was stale
        await this.stores.jobs.updateOne({ _id: job._id, gen: job.gen }, { leaseExpiresAt: lease.expiresAt });
        continue;
      }
      await this.expireClaim(
        job._id,
        job.gen,
        lease?.attempt ?? job.attempts,
        lease?.maxAttempts ?? job.maxAttempts,
        job.queue,
        job.uniqueKey,
      );
    }
  }

  /** Delete dead jobs that died before `before` (retention; keys were released when they died). */
  private async pruneDead(queues: readonly string[], before: Date): Promise<void> {
    const old = await this.stores.jobs.find(
      { state: 'dead', queue: { $in: [...queues] }, deadAt: { $lt: before } },
      { limit: PRUNE_BATCH, fields: ['_id'] },
    );
    if (old.length === 0) return;
    const ids = old.map((d) => d._id);
    await this.stores.jobs.deleteMany({ _id: { $in: ids }, state: 'dead' });
    await this.stores.fence.deleteMany({ jobId: { $in: ids } });
  }

  /** End claim `gen` as "lease expired" — if nobody ended it first. */
  private async expireClaim(
    jobId: string,
    gen: number,
    attempt: number,
    maxAttempts: number,
    queue: string,
    uniqueKey: string | undefined | null,
  ): Promise<void> {
    const now = new Date();
    const outcome: OutcomeDoc = {
      _id: outcomeId(jobId, gen),
      jobId,
      gen,
      kind: 'expired',
      at: now,
      queue,
      nextState: attempt >= maxAttempts ? 'dead' : 'pending',
      nextRunAt: now,
      nextAttempts: attempt,
      nextLastError: encodeError(leaseExpiredError(attempt, now.getTime())),
    };
    if (uniqueKey !== undefined && uniqueKey !== null) outcome.uniqueKey = uniqueKey;
    if (await this.stores.fence.insertOne(outcome)) {
      await this.applyOutcome(outcome);
      if (outcome.nextState === 'pending') this.wake.notify();
    } else {
      const existing = (await this.stores.fence.findOne({ _id: outcome._id })) as OutcomeDoc | null;
      if (existing) await this.applyOutcome(existing);
    }
  }

  /** Bring the job document in line with a decided outcome. Idempotent; safe to repeat. */
  private async applyOutcome(o: OutcomeDoc): Promise<void> {
    if (o.kind === 'ack') {
      await this.finishJob(o.jobId, o.queue, o.uniqueKey);
      return;
    }
    const set: Record<string, unknown> = { state: o.nextState, gen: o.gen, attempts: o.nextAttempts };
    if (o.nextRunAt) set['runAt'] = o.nextRunAt;
    if (o.nextLastError !== undefined && o.nextLastError !== null) set['lastError'] = o.nextLastError;
    if (o.nextState === 'dead') set['deadAt'] = o.at;
    await this.stores.jobs.updateOne({ _id: o.jobId, gen: { $lte: o.gen } }, set, [
      'leaseToken',
      'leaseExpiresAt',
    ]);
    if (o.nextState === 'dead') await this.releaseKey(o.queue, o.uniqueKey, o.jobId);
  }

  /** Delete a finished job, its key and its fence documents (in that order: see the docs). */
  async finishJob(jobId: string, queue: string, uniqueKey: string | undefined | null): Promise<void> {
    await this.stores.jobs.deleteMany({ _id: jobId });
    await this.releaseKey(queue, uniqueKey, jobId);
    await this.stores.fence.deleteMany({ jobId });
  }

  // ---------------------------------------------------------------- ack / requeue / extend

  /** The lease document iff `handle` names a current, unexpired claim. */
  private async currentLease(handle: LeaseHandle): Promise<LeaseDoc> {
    const gen = tokenGen(handle.lease.token);
    const lease =
      gen === undefined
        ? null
        : ((await this.stores.fence.findOne({ _id: leaseId(handle.id, gen) })) as LeaseDoc | null);
    if (!lease || lease.token !== handle.lease.token || lease.expiresAt.getTime() <= Date.now()) {
      throw new LeaseLostError(handle.id);
    }
    return lease;
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    const [lost] = await this.ackMany([handle]);
    if (lost) throw lost;
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    const out: Array<LeaseLostError | null> = handles.map(() => null);
    const leases = await Promise.all(
      handles.map((h, i) =>
        this.currentLease(h).catch((err: unknown) => {
          if (!(err instanceof LeaseLostError)) throw err;
          out[i] = err;
          return undefined;
        }),
      ),
    );
    const now = new Date();
    const candidates = leases.flatMap((lease, i) => (lease ? [{ lease, i }] : []));
    const outcomes: OutcomeDoc[] = candidates.map(({ lease }) => {
      const o: OutcomeDoc = {
        _id: outcomeId(lease.jobId, lease.gen),
        jobId: lease.jobId,
        gen: lease.gen,
        kind: 'ack',
        at: now,
        queue: lease.queue,
      };
      if (lease.uniqueKey !== undefined && lease.uniqueKey !== null) o.uniqueKey = lease.uniqueKey;
      return o;
    });
    const dups = await this.stores.fence.insertMany(outcomes);
    const won: OutcomeDoc[] = [];
    candidates.forEach(({ lease, i }, k) => {
      if (dups.has(k)) out[i] = new LeaseLostError(lease.jobId);
      else won.push(outcomes[k]!);
    });
    if (won.length > 0) {
      const ids = won.map((o) => o.jobId);
      await this.stores.jobs.deleteMany({ _id: { $in: ids } });
      await Promise.all(won.map((o) => this.releaseKey(o.queue, o.uniqueKey, o.jobId)));
      await this.stores.fence.deleteMany({ jobId: { $in: ids } });
    }
    return out;
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const lease = await this.currentLease(handle);
    const now = new Date();
    const outcome: OutcomeDoc = {
      _id: outcomeId(lease.jobId, lease.gen),
      jobId: lease.jobId,
      gen: lease.gen,
      kind: 'requeue',
      at: now,
      queue: lease.queue,
      nextState: options.dead && !options.release ? 'dead' : 'pending',
      nextRunAt: options.runAt ? new Date(options.runAt) : now,
      nextAttempts: options.release ? Math.max(0, lease.attempt - 1) : lease.attempt,
    };
    if (outcome.nextState === 'dead') delete outcome.nextRunAt;
    if (options.error && !options.release) outcome.nextLastError = encodeError(options.error);
    if (lease.uniqueKey !== undefined && lease.uniqueKey !== null) outcome.uniqueKey = lease.uniqueKey;
    if (!(await this.stores.fence.insertOne(outcome))) throw new LeaseLostError(handle.id);
    await this.applyOutcome(outcome);
    this.wake.notify();
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    assertLeaseMs(leaseMs, 'extend leaseMs');
    const lease = await this.currentLease(handle);
    const ended = () => this.stores.fence.findOne({ _id: outcomeId(lease.jobId, lease.gen) });
    if (await ended()) throw new LeaseLostError(handle.id);
    const expiresAt = new Date(Date.now() + leaseMs);
    await this.stores.fence.updateOne({ _id: lease._id, token: lease.token }, { expiresAt });
    await this.stores.jobs.updateOne({ _id: lease.jobId, gen: lease.gen }, { leaseExpiresAt: expiresAt });
    // a reclaimer that saw the old deadline may have ended the claim meanwhile
    if (await ended()) throw new LeaseLostError(handle.id);
    return expiresAt;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake.notify();
    await this.stores.close();
  }
}
