import {
  type AckAndPopOptions,
  type AckAndPopResult,
  AckBatcher,
  assertLeaseMs,
  type Backend,
  BackendClosedError,
  type Capabilities,
  type Inspector,
  isValidQueueName,
  type LeasedJobRecord,
  type LeaseHandle,
  LeaseLostError,
  type NewJob,
  normalizePopOptions,
  type PopOptions,
  type PushResult,
  type RequeueOptions,
  sleep,
} from '@ilkkun/core';
import { CallLedger } from './calls.js';
import { RedisInspector } from './inspector.js';
import { isJobId } from './keys.js';
import { decodeRecord, encodeError, type Reply } from './records.js';
import { SCRIPTS } from './scripts/index.js';
import type { Store } from './store.js';
import type { Waker } from './wake.js';

const CAPABILITIES: Capabilities = {
  priorities: true,
  delays: true,
  uniqueKeys: true,
  extend: true,
  nativeWait: true,
  multiProcess: true,
  concurrentPops: true,
  // with AOF (appendfsync always for no loss at all); see docs/backends/redis.md
  durable: true,
  leaseGranularityMs: 1,
  inspect: { counts: true, list: true, retryDead: true, deleteJobs: true, purge: true },
};

/** Jobs per push script call: big batches are split so one call never holds the server long. */
const PUSH_CHUNK = 500;
/** Jobs per pop script call (a Lua call can only spread a few thousand values). */
const POP_CHUNK = 1000;
/** Acks per ack script call, for the same reason. */
const ACK_CHUNK = 500;
/** Longest single block on the doorbells; a safety net for schedule changes nobody rang for. */
const MAX_BLOCK_MS = 5000;
/** Pause after a failed blocking connection before trying again (no busy loop while Redis is down). */
const ERROR_PAUSE_MS = 100;
/** Values per job in a pop reply: id, header, payload, lastError, attempts. */
const POP_STRIDE = 5;

interface PopBatch {
  jobs: LeasedJobRecord[];
  /** ms until something in these queues comes due; -1 = nothing scheduled */
  nextDueMs: number;
}

/**
 * The Redis backend: every state change is one Lua script (atomic, called by SHA), pops and
 * acks move many jobs per call, and a waiting pop blocks on the server until a push rings the
 * queue's doorbell. Layout, scripts and durability: docs/backends/redis.md.
 */
export class RedisBackend implements Backend {
  readonly name = 'redis';
  readonly capabilities = CAPABILITIES;
  readonly inspector: Inspector;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly acks: AckBatcher;
  /** lease tokens: this instance's random part + a call counter + the job's index in the call */
  private readonly tokenBase = `${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
  private popCalls = 0;
  /** numbers of lease-ending calls, and handles whose calls went unanswered (calls.ts) */
  private readonly calls = new CallLedger();

  constructor(
    private readonly store: Store,
    private readonly waker: Waker,
  ) {
    this.inspector = new RedisInspector(store, () => this.assertOpen());
    // separate ack() calls made together ride in one ack script call (core's batcher over ackMany)
    this.acks = new AckBatcher(this);
  }

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    if (jobs.length === 0) return [];
    const byQueue = new Map<string, number[]>();
    jobs.forEach((job, i) => {
      const list = byQueue.get(job.queue);
      if (list) list.push(i);
      else byQueue.set(job.queue, [i]);
    });
    for (const queue of byQueue.keys()) this.store.queue(queue); // validates names before any write
    const clientNow = Date.now();
    const clock = this.store.clock;
    const calls: Array<Promise<void>> = [];
    const results: PushResult[] = new Array(jobs.length);
    for (const [queue, indexes] of byQueue) {
      for (let start = 0; start < indexes.length; start += PUSH_CHUNK) {
        const chunk = indexes.slice(start, start + PUSH_CHUNK);
        const args: Array<string | number> = [chunk.length];
        for (const i of chunk) {
          const job = jobs[i]!;
          const runAt = job.runAt.getTime();
          args.push(
            job.payload,
            job.priority,
            clock.toServer(runAt),
            runAt <= clientNow ? '1' : '0',
            job.maxAttempts,
            job.uniqueKey ?? '',
            job.backoff ? JSON.stringify(job.backoff) : '',
          );
        }
        calls.push(
          this.store.run(SCRIPTS.push, queue, args).then((reply) => {
            const ids = reply as Reply[];
            chunk.forEach((i, k) => {
              const r = String(ids[k]);
              results[i] = r.startsWith('d')
                ? { id: r.slice(1), duplicate: true }
                : { id: r, duplicate: false };
            });
          }),
        );
      }
    }
    // after the scripts on the same connection, so a concurrent purge (SREM first, then delete)
    // can never leave a queue with jobs out of the registry
    const unregistered = this.store.unregistered(byQueue.keys());
    if (unregistered.length > 0) calls.push(this.registerQueues(unregistered));
    await Promise.all(calls);
    return results;
  }

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    for (const q of queues) this.store.queue(q);
    const { max, leaseMs, waitMs } = normalizePopOptions(options);
    if (queues.length === 0) return [];
    try {
      if (waitMs === 0) return (await this.popOnce(queues, max, leaseMs)).jobs;
      return await this.waitingPop(queues, max, leaseMs, waitMs, options.signal);
    } catch (err) {
      // close() during a pop: the caller asked to stop, not to see the connection go
      if (this.closed) return [];
      throw err;
    }
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    await this.acks.ack(handle);
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    const acked = await this.ackBatch(handles);
    return lostWhereNotAcked(handles, acked);
  }

  /**
   * Finish and fetch: the acks of the first queue popped ride in its pop script (one call, one
   * round trip); acks of other queues go out alongside as ack scripts.
   */
  async ackAndPop(
    handles: readonly LeaseHandle[],
    queues: readonly string[],
    options: AckAndPopOptions,
  ): Promise<AckAndPopResult> {
    this.assertOpen();
    for (const q of queues) this.store.queue(q);
    const { max, leaseMs } = normalizePopOptions({ max: options.max, leaseMs: options.leaseMs });
    if (queues.length === 0) return { acked: await this.ackMany(handles), jobs: [] };
    const start = this.popCalls % queues.length;
    const first = queues[start]!;
    const byQueue = groupByQueue(handles);
    // one script call carries at most ACK_CHUNK acks (Lua's unpack limit); the rest ride beside it
    const mine = byQueue.get(first) ?? [];
    const carried = mine.slice(0, ACK_CHUNK);
    if (mine.length > ACK_CHUNK) byQueue.set(first, mine.slice(ACK_CHUNK));
    else byQueue.delete(first);
    const acked: boolean[] = new Array(handles.length).fill(false);
    const carriedHandles = carried.map((i) => handles[i]!);
    const call = this.calls.number();
    const popping = this.popQueue(first, Math.min(max, POP_CHUNK), leaseMs, [
      call,
      ...this.ackTriples(carriedHandles),
    ]);
    const [batch] = await Promise.all([
      this.calls.track('ack', carriedHandles, call, popping).then((b) => {
        carried.forEach((i, k) => {
          acked[i] = b.acked[k] === true;
        });
        return b;
      }),
      this.ackGroups(handles, byQueue, acked),
    ]);
    let jobs = batch.jobs;
    if (jobs.length < max && (queues.length > 1 || jobs.length === POP_CHUNK)) {
      // the rest of a multi-queue (or very large) pop, as a plain non-waiting pop would do it
      const rest = queues.length > 1 ? [...queues.slice(start + 1), ...queues.slice(0, start)] : queues;
      jobs = jobs.concat((await this.popOnce(rest, max - jobs.length, leaseMs)).jobs);
    }
    return { acked: lostWhereNotAcked(handles, acked), jobs };
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    this.store.queue(handle.queue);
    if (!isJobId(handle.id)) throw new LeaseLostError(handle.id);
    const runAt = options.runAt ? new Date(options.runAt).getTime() : undefined;
    const call = this.calls.number();
    const run = this.store.run(SCRIPTS.requeue, handle.queue, [
      handle.id,
      handle.lease.token,
      runAt === undefined ? '' : this.store.clock.toServer(runAt),
      runAt === undefined || runAt <= Date.now() ? '1' : '0',
      options.error && !options.release ? encodeError(options.error) : '',
      options.dead ? '1' : '0',
      options.release ? '1' : '0',
      call,
      this.calls.earlier('requeue', handle),
    ]);
    const reply = await this.calls.track('requeue', [handle], call, run);
    if (Number(reply) !== 1) throw new LeaseLostError(handle.id);
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    this.store.queue(handle.queue);
    if (!isJobId(handle.id)) throw new LeaseLostError(handle.id);
    const ms = assertLeaseMs(leaseMs, 'extend leaseMs');
    const reply = Number(
      await this.store.run(SCRIPTS.extend, handle.queue, [handle.id, handle.lease.token, ms]),
    );
    if (reply < 0) throw new LeaseLostError(handle.id);
    return this.store.clock.toClient(reply);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.acks.idle().catch(() => undefined);
    this.waker.close();
    this.store.clock.stop();
    const conn = this.store.conn;
    if (conn.status === 'ready') {
      // QUIT waits for the replies of commands still in flight
      await conn.quit().catch(() => conn.disconnect());
    } else {
      conn.disconnect();
    }
  }

  /** One non-blocking pass over the queues, starting at a rotating queue so none is starved. */
  private async popOnce(queues: readonly string[], max: number, leaseMs: number): Promise<PopBatch> {
    const jobs: LeasedJobRecord[] = [];
    let nextDueMs = -1;
    const start = this.popCalls % queues.length;
    for (let k = 0; k < queues.length && jobs.length < max; k++) {
      const queue = queues[(start + k) % queues.length]!;
      for (;;) {
        const want = Math.min(max - jobs.length, POP_CHUNK);
        const batch = await this.popQueue(queue, want, leaseMs);
        jobs.push(...batch.jobs);
        if (batch.nextDueMs >= 0 && (nextDueMs < 0 || batch.nextDueMs < nextDueMs))
          nextDueMs = batch.nextDueMs;
        if (batch.jobs.length < want || jobs.length >= max) break;
      }
    }
    return { jobs, nextDueMs };
  }

  /** One pop script call; with `ackArgs` (call number, then id, token, earlier triples) the ack-pop script acks them first. */
  private async popQueue(
    queue: string,
    max: number,
    leaseMs: number,
    ackArgs?: readonly string[],
  ): Promise<PopBatch & { acked: boolean[] }> {
    const base = `${this.tokenBase}.${(++this.popCalls).toString(36)}.`;
    let reply: Reply[];
    let acked: boolean[] = [];
    if (ackArgs && ackArgs.length > 1) {
      const both = (await this.store.run(SCRIPTS.ackPop, queue, [max, leaseMs, base, ...ackArgs])) as [
        Reply[],
        Reply[],
      ];
      acked = both[0].map((flag) => Number(flag) === 1);
      reply = both[1];
    } else {
      reply = (await this.store.run(SCRIPTS.pop, queue, [max, leaseMs, base])) as Reply[];
    }
    const clock = this.store.clock;
    const expiresAt = clock.toClient(Number(reply[1]));
    const jobs: LeasedJobRecord[] = [];
    for (let i = 2, k = 1; i + POP_STRIDE - 1 < reply.length; i += POP_STRIDE, k++) {
      const record = decodeRecord(queue, String(reply[i]), reply, i + 1, clock, 'active') as LeasedJobRecord;
      // one Date per job: callers may keep and mutate what they get
      record.lease = { token: `${base}${k}`, expiresAt: k === 1 ? expiresAt : new Date(expiresAt.getTime()) };
      jobs.push(record);
    }
    return { jobs, nextDueMs: Number(reply[0]), acked };
  }

  /**
   * Pop, and when nothing is ready block on the queues' doorbells until a push rings, the next
   * delayed job or lease comes due, the wait runs out, or `signal` (or close) aborts.
   */
  private async waitingPop(
    queues: readonly string[],
    max: number,
    leaseMs: number,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<LeasedJobRecord[]> {
    const deadline = Date.now() + waitMs;
    const markKeys = queues.map((q) => this.store.queue(q).keys.mark);
    const stop = new AbortController();
    const abort = () => stop.abort();
    signal?.addEventListener('abort', abort, { once: true });
    this.closing.signal.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) stop.abort();
    try {
      for (;;) {
        const { jobs, nextDueMs } = await this.popOnce(queues, max, leaseMs);
        if (jobs.length > 0) return jobs;
        const remaining = deadline - Date.now();
        if (remaining <= 0 || stop.signal.aborted) return [];
        let block = Math.min(remaining, MAX_BLOCK_MS);
        if (nextDueMs >= 0) block = Math.min(block, nextDueMs + 1);
        const outcome = await this.waker.wait(markKeys, block, stop.signal);
        if (outcome === 'aborted') return [];
        if (outcome === 'error') await sleep(ERROR_PAUSE_MS, stop.signal);
      }
    } finally {
      signal?.removeEventListener('abort', abort);
      this.closing.signal.removeEventListener('abort', abort);
    }
  }

  /** Ack many jobs, grouped by queue, one script call per queue and chunk, all in one round trip. */
  private async ackBatch(handles: readonly LeaseHandle[]): Promise<boolean[]> {
    const acked: boolean[] = new Array(handles.length).fill(false);
    await this.ackGroups(handles, groupByQueue(handles), acked);
    return acked;
  }

  /** The ack scripts for `byQueue` (queue → indexes into `handles`), sent back to back; fills `acked`. */
  private async ackGroups(
    handles: readonly LeaseHandle[],
    byQueue: ReadonlyMap<string, number[]>,
    acked: boolean[],
  ): Promise<void> {
    const calls: Array<Promise<void>> = [];
    for (const [queue, indexes] of byQueue) {
      for (let start = 0; start < indexes.length; start += ACK_CHUNK) {
        const chunk = indexes.slice(start, start + ACK_CHUNK);
        const chunkHandles = chunk.map((i) => handles[i]!);
        const call = this.calls.number();
        const run = this.store.run(SCRIPTS.ack, queue, [call, ...this.ackTriples(chunkHandles)]);
        calls.push(
          this.calls.track('ack', chunkHandles, call, run).then((reply) => {
            const flags = reply as Reply[];
            chunk.forEach((i, k) => {
              acked[i] = Number(flags[k]) === 1;
            });
          }),
        );
      }
    }
    await Promise.all(calls);
  }

  /** Ack script arguments for `handles`: id, token, and the earlier unanswered calls that carried it. */
  private ackTriples(handles: readonly LeaseHandle[]): string[] {
    const args: string[] = [];
    for (const h of handles) args.push(h.id, h.lease.token, this.calls.earlier('ack', h));
    return args;
  }

  private async registerQueues(queues: string[]): Promise<void> {
    await this.store.command('SADD', () => this.store.conn.sadd(this.store.registry, ...queues));
    this.store.markRegistered(queues, true);
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError('redis backend');
  }
}

/** `ackMany`'s answer from the scripts' flags: null where acked, the job's LeaseLostError elsewhere. */
function lostWhereNotAcked(
  handles: readonly LeaseHandle[],
  acked: readonly boolean[],
): Array<LeaseLostError | null> {
  return handles.map((h, i) => (acked[i] ? null : new LeaseLostError(h.id)));
}

/**
 * Handles by queue (queue → their indexes). A handle that cannot name one of our jobs is simply
 * not ours to ack: left out, so it reads as lost, not as a failure of the batch.
 */
function groupByQueue(handles: readonly LeaseHandle[]): Map<string, number[]> {
  const byQueue = new Map<string, number[]>();
  handles.forEach((h, i) => {
    if (!isValidQueueName(h.queue) || !isJobId(h.id) || typeof h.lease?.token !== 'string') return;
    const list = byQueue.get(h.queue);
    if (list) list.push(i);
    else byQueue.set(h.queue, [i]);
  });
  return byQueue;
}
