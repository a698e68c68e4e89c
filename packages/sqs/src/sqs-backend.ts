import { createHash, randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import {
  assertLeaseMs,
  assertQueueName,
  type Backend,
  BackendClosedError,
  type Capabilities,
  type Inspector,
  type LeasedJobRecord,
  type LeaseHandle,
  LeaseLostError,
  leaseExpiredError,
  type NewJob,
  normalizePopOptions,
  PayloadTooLargeError,
  type PopOptions,
  type PushResult,
  type RequeueOptions,
  UnsupportedFeatureError,
} from '@ilkkun/core';
import {
  compareJobs,
  decodeMessage,
  encodeAttributes,
  fitError,
  messageSize,
  newStoredJob,
  type StoredJob,
  toRecord,
} from './attributes.js';
import { MicroBatcher } from './batcher.js';
import { classifyError, isLeaseGone, isQueueMissing } from './classify-error.js';
import { decideFence, fenceAtSend, type LeaseEntry, LeaseTable, leaseDeadline } from './lease-table.js';
import { delaySecondsFor, isDue, visibilitySecondsFor } from './long-delay.js';
import { LongPoller, type PollWaiter } from './long-poll.js';
import type { ResolvedSqsOptions } from './options.js';
import { PrefetchBuffer } from './prefetch.js';
import { levelOf } from './priority-levels.js';
import type { LevelQueue, QueueRegistry } from './queue-registry.js';
import { type Fenced, sendFenced } from './send-fence.js';
import type { OutgoingMessage, Received, SqsOps } from './sqs-ops.js';

/** Room left in each message for ilkkun's attributes (id, job fields, last error). */
export const ATTRIBUTE_RESERVE_BYTES = 8192;
/** How long a requeue may take (send + delete) before the lease is checked with SQS first. */
const REQUEUE_NEED_MS = 5000;
/**
 * Lease a requeue's re-send must still have when it actually goes out (beyond the transit guard):
 * room for its reply and for the delete of the received copy that follows.
 */
const REQUEUE_SEND_NEED_MS = 2000;
/**
 * Lease an ack must have beyond the guard when it is called, so that it still passes the check
 * made when its batch goes out (send-fence.ts): the delete linger (15 ms) plus a busy event loop.
 * Closer to the end, the ack first extends the lease with SQS (`verify`) instead of being refused.
 */
const ACK_SEND_ALLOWANCE_MS = 250;
/** A pop takes a message due this close to now (absorbs DelaySeconds rounding and clock skew). */
const DUE_TOLERANCE_MS = 250;
/** A push of more batches than this (to one SQS queue) sends BULK_LANES batches at once. */
const BULK_BATCHES = 10;
const BULK_LANES = 16;
/**
 * A part batch of deletes (acks) waits this long for more: a pool of 16 slots acks 10 + 6 per
 * cycle, and the 6 fill up with the next cycle's acks instead of costing a request of their own
 * (measured on fauxqs at c=16: 0.90 → 1.02 of a raw Receive/Delete loop). Every request costs the
 * same with 1 entry as with 10; an ack answers at most this much later.
 */
const DELETE_LINGER_MS = 15;
/** Concurrent ReceiveMessage calls of one pop or one long poller (each brings ≤ 10). */
const MAX_RECEIVERS = 10;

export function sqsCapabilities(options: ResolvedSqsOptions): Capabilities {
  return {
    priorities: options.priorities.max > options.priorities.min,
    // FIFO queues refuse per-message DelaySeconds
    delays: !options.fifo,
    // SQS de-duplicates (FIFO only) for 5 minutes after a send, not "while a live job holds the key"
    uniqueKeys: false,
    extend: true,
    nativeWait: true,
    multiProcess: true,
    // no second pop from the pool: receive-ahead already keeps the next batch coming (prefetch.ts)
    concurrentPops: false,
    durable: true,
    leaseGranularityMs: 1000,
    maxPayloadBytes: options.maxMessageBytes - ATTRIBUTE_RESERVE_BYTES,
    // list and deleteJobs work for dead jobs only (waiting/delayed/active messages cannot be read
    // without receiving them); the flags are all-states, so they stay false — see docs/backends/sqs.md
    inspect: { counts: true, list: false, retryDead: true, deleteJobs: false, purge: true },
  };
}

interface Target {
  queue: string;
  levels: LevelQueue[];
}

/**
 * The SQS backend. Lease = visibility timeout, ack = DeleteMessage, extend =
 * ChangeMessageVisibility, wake-up = long polling. Every change to a job (requeue, release, death,
 * a long delay's next hop) is a new message plus a delete of the old one, because SQS attributes
 * are immutable and ApproximateReceiveCount — the only thing SQS changes on a receive — is how
 * crashed workers are counted (see attributes.ts, long-delay.ts, lease-table.ts).
 */
export class SqsBackend implements Backend {
  readonly name = 'sqs';
  readonly capabilities: Capabilities;
  inspector?: Inspector;
  readonly leases = new LeaseTable();
  readonly prefetch: PrefetchBuffer;
  private closed = false;
  private closing?: Promise<void>;
  private seq = 0;
  private rotation = 0;
  /** lease tokens: random per instance, then a counter — only this instance's lease table knows them */
  private readonly tokenBase = `${randomUUID()}.`;
  private tokens = 0;
  private readonly pollers = new Map<string, LongPoller>();
  /** receive-ahead calls under way, by `url|visibility` */
  private readonly aheads = new Map<string, Promise<void>>();
  private readonly openWaiters = new Set<{ close(): void }>();
  /** receipt handles to delete, batched per SQS queue URL; ack entries carry their lease fence */
  private readonly deletes: MicroBatcher<Fenced<string>, void>;
  private readonly sends: MicroBatcher<Fenced<OutgoingMessage>, string>;
  /** errors of background work nobody awaits (put-backs after a pop gave up); see `onBackgroundError` */
  backgroundErrors = 0;
  onBackgroundError: (error: unknown) => void = (error) => {
    this.backgroundErrors++;
    process.emitWarning(`ilkkun sqs: background hand-back failed: ${String(error)}`, {
      code: 'ILKKUN_SQS_BACKGROUND',
    });
  };

  constructor(
    readonly ops: SqsOps,
    readonly registry: QueueRegistry,
    readonly options: ResolvedSqsOptions,
  ) {
    this.capabilities = sqsCapabilities(options);
    this.prefetch = new PrefetchBuffer(
      options.prefetchMs,
      (a, b) => this.compareLeased(a, b),
      (expired) => {
        this.putBack(expired).catch((err: unknown) => this.onBackgroundError(err));
      },
    );
    this.deletes = new MicroBatcher<Fenced<string>, void>({
      maxItems: 10,
      lingerMs: DELETE_LINGER_MS,
      flush: (url, entries) => sendFenced(entries, (handles) => ops.deleteBatch(url, handles)),
    });
    this.sends = new MicroBatcher<Fenced<OutgoingMessage>, string>({
      maxItems: 10,
      maxBytes: options.maxMessageBytes,
      sizeOf: (m) => messageSize(m.item.MessageBody, m.item.MessageAttributes),
      flush: (url, entries) => sendFenced(entries, (messages) => ops.sendBatch(url, messages)),
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError('sqs backend');
  }

  /** For the inspector: BACKEND_CLOSED after close(), like every other call. */
  ensureOpen(): void {
    this.assertOpen();
  }

  /** Deletes (acks among them) waiting for their batch to go out; tests wait on it to stall a worker there. */
  get deletesWaiting(): number {
    return this.deletes.queued;
  }

  /** Delete one message (batched with others to the same queue); `fence` is checked when the batch goes out. */
  deleteMessage(url: string, receiptHandle: string, fence?: Fenced<string>['fence']): Promise<void> {
    return this.deletes.add(url, { item: receiptHandle, fence });
  }

  /** Send one message (batched with others to the same queue); `fence` is checked when the batch goes out. */
  sendMessage(
    url: string,
    message: OutgoingMessage,
    fence?: Fenced<OutgoingMessage>['fence'],
  ): Promise<string> {
    return this.sends.add(url, { item: message, fence });
  }

  /** The message a re-send of `job` sends (the inspector's retryDead uses it). */
  outgoingFor(job: StoredJob): OutgoingMessage {
    return this.outgoing(job, Date.now(), false);
  }

  // ---------------------------------------------------------------- push

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    const now = Date.now();
    const limit = this.capabilities.maxPayloadBytes ?? this.options.maxMessageBytes;
    const results: PushResult[] = new Array(jobs.length);
    const byLevel = new Map<string, Array<{ index: number; job: StoredJob; message: OutgoingMessage }>>();
    const firstOfKey = new Map<string, string>();
    // everything is checked before anything is sent: a refused batch writes nothing
    const prepared = jobs.map((job, index) => {
      assertQueueName(job.queue);
      if (job.uniqueKey !== undefined && !this.options.fifo) {
        throw new UnsupportedFeatureError(
          'uniqueKey',
          'sqs',
          'standard SQS queues cannot de-duplicate; use fifo=true (de-duplication for 5 minutes after a send)',
        );
      }
      if (this.options.fifo && job.runAt.getTime() > now + 1000) {
        throw new UnsupportedFeatureError('delayed jobs', 'sqs', 'FIFO queues refuse per-message delays');
      }
      const stored = newStoredJob(job, randomUUID(), now, ++this.seq, this.options.escapeAstral);
      // the body as sent (escapes included) is what SQS counts
      const bytes = Buffer.byteLength(stored.payload, 'utf8');
      if (bytes > limit) throw new PayloadTooLargeError(bytes, limit);
      return { index, stored };
    });
    for (const { index, stored } of prepared) {
      if (stored.uniqueKey !== undefined) {
        // SQS drops the second send of a deduplication id silently; within one batch we know the first id
        const slot = `${stored.queue}\u0000${stored.uniqueKey}`;
        const first = firstOfKey.get(slot);
        if (first !== undefined) {
          results[index] = { id: first, duplicate: true };
          continue;
        }
        firstOfKey.set(slot, stored.id);
      }
      const level = levelOf(stored.priority, this.options.priorities);
      const key = `${stored.queue}\u0000${level}`;
      const list = byLevel.get(key) ?? [];
      list.push({ index, job: stored, message: this.outgoing(stored, now, true) });
      byLevel.set(key, list);
      results[index] = { id: stored.id, duplicate: false };
    }
    await Promise.all(
      [...byLevel.values()].map(async (entries) => {
        const first = entries[0]!.job;
        const level = levelOf(first.priority, this.options.priorities);
        let url = await this.registry.levelUrl(first.queue, level);
        // pop order within the batch: SQS (and fauxqs) hand messages out roughly in send order
        entries.sort((a, b) => compareJobs(a.job, b.job));
        const chunks: Array<typeof entries> = [];
        for (let i = 0; i < entries.length; ) {
          const chunk: typeof entries = [];
          let bytes = 0;
          while (i < entries.length && chunk.length < 10) {
            const e = entries[i]!;
            const size = messageSize(e.message.MessageBody, e.message.MessageAttributes);
            if (chunk.length > 0 && bytes + size > this.options.maxMessageBytes) break;
            chunk.push(e);
            bytes += size;
            i++;
          }
          chunks.push(chunk);
        }
        const send = async (chunk: typeof entries) => {
          const messages = chunk.map((e) => e.message);
          let outcomes: Awaited<ReturnType<SqsOps['sendBatch']>>;
          try {
            outcomes = await this.ops.sendBatch(url, messages);
          } catch (err) {
            // the queue was deleted behind our back (an operator, a cleanup): create it again, once
            if (!isQueueMissing(err)) throw err;
            this.registry.forget(url);
            url = await this.registry.levelUrl(first.queue, level);
            outcomes = await this.ops.sendBatch(url, messages);
          }
          const failed = outcomes.find((o) => !o.ok);
          if (failed && !failed.ok) throw failed.error;
        };
        // Batches of one SQS queue go one after another so their order survives (FIFO groups need
        // it; fauxqs and, roughly, SQS hand out in send order). Bulk pushes to standard queues
        // trade that for throughput: several batches in flight.
        const lanes = !this.options.fifo && chunks.length > BULK_BATCHES ? BULK_LANES : 1;
        let next = 0;
        await Promise.all(
          Array.from({ length: lanes }, async () => {
            while (next < chunks.length) await send(chunks[next++]!);
          }),
        );
      }),
    );
    return results;
  }

  /**
   * The SendMessageBatch entry for a job (body, attributes, delay, FIFO group and dedup id).
   * `toFifo` is the target's type, not the mode: the dead queue is always a standard queue, and
   * AWS refuses FIFO parameters there. Dead jobs are never delayed.
   */
  private outgoing(
    job: StoredJob,
    now: number,
    first: boolean,
    toFifo = this.options.fifo,
    dead = false,
  ): OutgoingMessage {
    const fitted = fitError(job, this.options.maxMessageBytes);
    const message: OutgoingMessage = {
      MessageBody: fitted.payload,
      MessageAttributes: encodeAttributes(fitted),
    };
    if (toFifo) {
      message.MessageGroupId = job.group ?? (this.options.fifoGroup === 'queue' ? 'ilkkun' : job.id);
      // only a job's first send carries its uniqueKey's dedup id: re-sends are the same job, not duplicates
      message.MessageDeduplicationId =
        first && job.uniqueKey !== undefined
          ? createHash('sha256').update(`${job.queue}\u0000${job.uniqueKey}`).digest('hex')
          : randomUUID();
    } else if (!dead) {
      const delay = delaySecondsFor(job.runAt, now, this.options.maxDelaySeconds);
      if (delay > 0) message.DelaySeconds = delay;
    }
    return message;
  }

  // ---------------------------------------------------------------- pop

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs, signal } = normalizePopOptions(options);
    for (const q of queues) assertQueueName(q);
    if (queues.length === 0) return [];
    this.leases.sweep(Date.now());
    const visibility = visibilitySecondsFor(leaseMs);
    const deadline = Date.now() + waitMs;
    const targets = await this.targets(queues);
    const found = await this.popNow(targets, max, visibility);
    if (found.length > 0 || waitMs === 0 || signal?.aborted || this.closed) return found;
    return this.waitForJobs(targets, max, visibility, deadline, signal);
  }

  private async targets(queues: readonly string[]): Promise<Target[]> {
    const unique = [...new Set(queues)];
    // rotate the start so several queues in one pop share the receives fairly
    const start = this.rotation++ % unique.length;
    const ordered = [...unique.slice(start), ...unique.slice(0, start)];
    return Promise.all(
      ordered.map(async (queue) => ({ queue, levels: await this.registry.popLevels(queue) })),
    );
  }

  /** Receive-ahead only where a lease is long against the hold time (see prefetch.ts). */
  private prefetching(visibility: number): boolean {
    return this.options.prefetchMs > 0 && visibility * 1000 >= 10 * this.options.prefetchMs;
  }

  /** Non-blocking: drain levels from the highest down, concurrent receivers sized to what is missing. */
  private async popNow(targets: Target[], max: number, visibility: number): Promise<LeasedJobRecord[]> {
    const got: LeasedJobRecord[] = [];
    const ahead = this.prefetching(visibility);
    let source: { queue: string; level: number; url: string } | undefined;
    for (const target of targets) {
      for (const { level, url } of target.levels) {
        const key = `${url}|${visibility}`;
        // a receive-ahead under way brings what this pop needs sooner than a new receive would
        const pending = this.aheads.get(key);
        if (pending && this.prefetch.sizeOf(key) < max - got.length) await pending;
        const before = got.length;
        got.push(...this.prefetch.take(key, max - got.length));
        for (let round = 0; round < 5 && got.length < max; round++) {
          const missing = max - got.length;
          const receivers = Math.min(MAX_RECEIVERS, Math.ceil(missing / 10));
          const asks = Array.from({ length: receivers }, (_, i) =>
            ahead ? 10 : Math.min(10, missing - i * 10),
          );
          let received: Received[];
          try {
            received = await Promise.all(
              asks.map((n) => this.ops.receive(url, n, visibility, 0, this.systemAttributes())),
            );
          } catch (err) {
            if (!isQueueMissing(err)) throw err;
            this.registry.forget(url);
            break;
          }
          const count = received.reduce((n, r) => n + r.messages.length, 0);
          const admitted: LeasedJobRecord[] = [];
          for (const r of received) admitted.push(...(await this.admit(target.queue, level, url, r)));
          admitted.sort((a, b) => this.compareLeased(a, b));
          got.push(...admitted.splice(0, missing));
          await this.surplus(key, visibility, admitted);
          // fewer than asked: the level is drained (for now)
          if (count < asks.reduce((a, b) => a + b, 0)) break;
        }
        if (got.length > before) source = { queue: target.queue, level, url };
        if (got.length >= max) break;
      }
      if (got.length >= max) break;
    }
    // a full pop means a backlog: receive the next batch while this one runs (one round trip saved per cycle)
    if (ahead && source && got.length === max)
      this.receiveAhead(source.queue, source.level, source.url, visibility, max);
    return got.sort((a, b) => this.compareLeased(a, b));
  }

  private receiveAhead(queue: string, level: number, url: string, visibility: number, count: number): void {
    const key = `${url}|${visibility}`;
    if (this.closed || this.aheads.has(key) || this.prefetch.sizeOf(key) >= count) return;
    const receivers = Math.min(MAX_RECEIVERS, Math.ceil(count / 10));
    const run = (async () => {
      const received = await Promise.all(
        Array.from({ length: receivers }, () =>
          this.ops.receive(url, 10, visibility, 0, this.systemAttributes()),
        ),
      );
      for (const r of received) await this.surplus(key, visibility, await this.admit(queue, level, url, r));
    })()
      .catch((err: unknown) => {
        if (isQueueMissing(err)) this.registry.forget(url);
        else this.onBackgroundError(err);
      })
      .finally(() => this.aheads.delete(key));
    this.aheads.set(key, run);
  }

  /** Leased jobs no pop took: held for the next pop where receive-ahead applies, else handed back. */
  private async surplus(key: string, visibility: number, records: LeasedJobRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.prefetching(visibility) && !this.closed) this.prefetch.add(key, records);
    else await this.putBack(records);
  }

  /** Pop order (priority, runAt, creation, insertion) for leased records, via their stored jobs. */
  private compareLeased(a: LeasedJobRecord, b: LeasedJobRecord): number {
    const ja = this.leases.get(a.lease.token)?.job;
    const jb = this.leases.get(b.lease.token)?.job;
    if (ja && jb) return compareJobs(ja, jb);
    return b.priority - a.priority || a.runAt.getTime() - b.runAt.getTime();
  }

  private newToken(): string {
    return this.tokenBase + (++this.tokens).toString(36);
  }

  private systemAttributes(): string[] {
    return this.options.fifo ? ['MessageGroupId'] : [];
  }

  private waitForJobs(
    targets: Target[],
    max: number,
    visibility: number,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<LeasedJobRecord[]> {
    return new Promise<LeasedJobRecord[]>((resolve, reject) => {
      const pollers: LongPoller[] = [];
      let open = true;
      const finish = (jobs: LeasedJobRecord[], error?: unknown) => {
        if (!open) return;
        open = false;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.openWaiters.delete(closer);
        for (const p of pollers) p.remove(waiter);
        this.prunePollers();
        if (error !== undefined) reject(error);
        else resolve(jobs.sort((a, b) => this.compareLeased(a, b)));
      };
      const waiter: PollWaiter = {
        want: max,
        deadline,
        get open() {
          return open;
        },
        accept: (jobs) => {
          if (!open) return jobs;
          finish(jobs.slice(0, max));
          return jobs.slice(max);
        },
        fail: (error) => finish([], error),
      };
      const closer = { close: () => finish([]) };
      const onAbort = () => finish([]);
      const timer = setTimeout(() => finish([]), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.openWaiters.add(closer);
      for (const target of targets) {
        for (const { level, url } of target.levels) {
          const poller = this.poller(target.queue, level, url, visibility);
          pollers.push(poller);
          poller.add(waiter);
        }
      }
    });
  }

  private poller(queue: string, level: number, url: string, visibility: number): LongPoller {
    const key = `${url}|${visibility}`;
    let poller = this.pollers.get(key);
    if (!poller) {
      poller = new LongPoller({
        poll: async (max, waitSeconds) =>
          this.admit(
            queue,
            level,
            url,
            await this.ops.receive(url, max, visibility, waitSeconds, this.systemAttributes()),
          ),
        surplus: (jobs) => this.surplus(key, visibility, jobs),
        batch: this.prefetching(visibility) ? 10 : undefined,
        onBackgroundError: (err) => this.onBackgroundError(err),
        isGone: (err) => {
          if (!isQueueMissing(err)) return false;
          this.registry.forget(url);
          this.pollers.delete(key);
          return true;
        },
        longPollSeconds: this.options.longPollSeconds,
        maxPolls: MAX_RECEIVERS,
      });
      this.pollers.set(key, poller);
    }
    return poller;
  }

  private prunePollers(): void {
    for (const [key, poller] of this.pollers) if (!poller.busy) this.pollers.delete(key);
  }

  /**
   * Turn received messages into leased jobs. A message not yet due (a long delay's hop) is sent
   * again with the remaining delay; one whose earlier deliveries ran out of lease is counted: the
   * attempt made, "lease expired" recorded, and with its attempts used up it goes to dead instead.
   */
  private async admit(
    queue: string,
    level: number,
    url: string,
    received: Received,
  ): Promise<LeasedJobRecord[]> {
    const now = Date.now();
    const out: LeasedJobRecord[] = [];
    const moves: Array<Promise<void>> = [];
    const epoch = this.leases.epochOf(queue);
    for (const message of received.messages) {
      const job = decodeMessage(message, queue, level);
      const handle = message.ReceiptHandle ?? '';
      // FIFO queues cannot delay a message, so a FIFO job is always due (pushes refuse delays)
      if (!this.options.fifo && !isDue(job.runAt, now, DUE_TOLERANCE_MS)) {
        moves.push(this.move(url, handle, url, job));
        continue;
      }
      const deliveries = receiveCount(message);
      const attemptsMade = job.attemptsBefore + deliveries;
      if (deliveries > 1) {
        // every earlier delivery of this very message ended without ack, requeue or release
        job.lastError = leaseExpiredError(attemptsMade - 1, now);
        if (attemptsMade - 1 >= job.maxAttempts) {
          const dead: StoredJob = { ...job, attemptsBefore: attemptsMade - 1, deadAt: now };
          moves.push(this.registry.deadUrl(queue).then((deadUrl) => this.move(url, handle, deadUrl, dead)));
          continue;
        }
      }
      const entry: LeaseEntry = {
        token: this.newToken(),
        url,
        receiptHandle: handle,
        job,
        attemptsMade,
        epoch,
        busy: false,
        sentAt: received.sentAt,
        recvAt: received.recvAt,
        visibilitySeconds: received.visibilitySeconds,
      };
      this.leases.add(entry);
      const record = toRecord(job, attemptsMade) as LeasedJobRecord;
      record.state = 'active';
      record.lease = { token: entry.token, expiresAt: new Date(leaseDeadline(entry)) };
      out.push(record);
    }
    if (moves.length > 0) {
      // a failed move leaves the message where it was: it comes back when its visibility ends
      const settled = await Promise.allSettled(moves);
      for (const s of settled) if (s.status === 'rejected') this.onBackgroundError(s.reason);
    }
    return out;
  }

  /**
   * Send `job` (as a new message) to `toUrl`, then delete the received copy. Send first: never lost.
   * `fence` (the lease the move acts under) is checked when the send goes out; once the copy is
   * sent the delete always follows: even with the lease gone it is the best chance to avoid a
   * duplicate (SQS may still delete a message nobody received again).
   */
  private async move(
    fromUrl: string,
    handle: string,
    toUrl: string,
    job: StoredJob,
    fence?: Fenced<OutgoingMessage>['fence'],
  ): Promise<void> {
    const dead = job.deadAt !== undefined;
    await this.sendMessage(
      toUrl,
      this.outgoing(job, Date.now(), false, toUrl.endsWith('.fifo'), dead),
      fence,
    );
    await this.deleteMessage(fromUrl, handle);
  }

  /** Hand leased jobs back unattempted (a pop that gave up, close): like release. */
  private async putBack(jobs: LeasedJobRecord[]): Promise<void> {
    await Promise.all(
      jobs.map(async (record) => {
        const entry = this.leases.get(record.lease.token);
        if (!entry) return;
        this.leases.delete(entry.token);
        const job: StoredJob = { ...entry.job, attemptsBefore: entry.attemptsMade - 1 };
        // a hand-back that runs only after the lease certainly ended (the process stalled) must not
        // re-send: the message is visible again, maybe already received elsewhere, and comes back alone
        const unlessOver = (now: number) =>
          decideFence(entry, now, 0, this.options.leaseGuardMs) === 'lost'
            ? new LeaseLostError(entry.job.id, 'the lease ended before the hand-back')
            : undefined;
        await this.move(entry.url, entry.receiptHandle, entry.url, job, unlessOver).catch((err: unknown) => {
          if (!(err instanceof LeaseLostError)) throw err;
        });
      }),
    );
  }

  // ---------------------------------------------------------------- ack, requeue, extend

  /**
   * The lease entry iff `handle` holds the job's current lease, with at least `needMs` of it left
   * (asking SQS when the local clock cannot tell; see lease-table.ts). Marks it busy.
   */
  private async claim(handle: LeaseHandle, needMs: number): Promise<LeaseEntry> {
    const entry = this.leases.get(handle.lease.token);
    if (
      !entry ||
      entry.busy ||
      entry.job.id !== handle.id ||
      entry.job.queue !== handle.queue ||
      entry.epoch !== this.leases.epochOf(entry.job.queue)
    ) {
      throw new LeaseLostError(handle.id);
    }
    const decision = decideFence(entry, Date.now(), needMs, this.options.leaseGuardMs);
    if (decision === 'lost') {
      this.leases.delete(entry.token);
      throw new LeaseLostError(handle.id, 'the lease expired');
    }
    entry.busy = true;
    if (decision === 'verify') {
      const seconds = visibilitySecondsFor(needMs + 2 * this.options.leaseGuardMs + 10_000);
      try {
        const t = await this.ops.changeVisibility(entry.url, entry.receiptHandle, seconds);
        entry.sentAt = t.sentAt;
        entry.recvAt = t.recvAt;
        entry.visibilitySeconds = seconds;
      } catch (err) {
        entry.busy = false;
        if (isLeaseGone(err) || isQueueMissing(err)) {
          this.leases.delete(entry.token);
          throw new LeaseLostError(handle.id, 'SQS no longer accepts the receipt handle');
        }
        throw err;
      }
    }
    return entry;
  }

  async ack(handle: LeaseHandle): Promise<void> {
    this.assertOpen();
    const entry = await this.claim(handle, ACK_SEND_ALLOWANCE_MS);
    try {
      // judged again when the batch goes out: SQS would accept a stale handle's delete silently
      await this.deleteMessage(entry.url, entry.receiptHandle, fenceAtSend(entry, this.options.leaseGuardMs));
      this.leases.delete(entry.token);
    } catch (err) {
      entry.busy = false;
      if (err instanceof LeaseLostError) {
        this.leases.delete(entry.token);
        throw err;
      }
      if (isLeaseGone(err)) {
        this.leases.delete(entry.token);
        throw new LeaseLostError(handle.id, 'SQS refused the receipt handle');
      }
      throw classifyError(err, 'DeleteMessage', this.ops.where);
    }
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    return Promise.all(
      handles.map((h) =>
        this.ack(h).then(
          () => null,
          (err: unknown) => {
            if (err instanceof LeaseLostError) return err;
            throw err;
          },
        ),
      ),
    );
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const entry = await this.claim(handle, REQUEUE_NEED_MS);
    try {
      const now = Date.now();
      const runAt = options.runAt ? options.runAt.getTime() : now;
      let next: StoredJob;
      let toUrl = entry.url;
      if (options.release) {
        // the attempt the pop counted is given back; the error (if any) is not recorded
        next = { ...entry.job, attemptsBefore: Math.max(0, entry.attemptsMade - 1), runAt };
      } else {
        next = { ...entry.job, attemptsBefore: entry.attemptsMade, runAt };
        if (options.error) next.lastError = { ...options.error };
        if (options.dead) {
          next.deadAt = now;
          toUrl = await this.registry.deadUrl(entry.job.queue);
        }
      }
      if (this.options.fifo && toUrl === entry.url) next.runAt = Math.min(next.runAt, now);
      // the re-send is judged again when it goes out: a stalled requeue must not add a second copy
      // of a message whose lease ran out (another worker may hold it by then)
      const fence = fenceAtSend(entry, this.options.leaseGuardMs, REQUEUE_SEND_NEED_MS);
      await this.move(entry.url, entry.receiptHandle, toUrl, next, fence);
      this.leases.delete(entry.token);
    } catch (err) {
      entry.busy = false;
      if (err instanceof LeaseLostError) this.leases.delete(entry.token);
      throw classifyError(err, 'requeue', this.ops.where);
    }
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    assertLeaseMs(leaseMs, 'extend leaseMs');
    const entry = this.leases.get(handle.lease.token);
    if (
      !entry ||
      entry.job.id !== handle.id ||
      entry.job.queue !== handle.queue ||
      entry.epoch !== this.leases.epochOf(entry.job.queue)
    ) {
      throw new LeaseLostError(handle.id);
    }
    if (decideFence(entry, Date.now(), 0, this.options.leaseGuardMs) === 'lost') {
      if (!entry.busy) this.leases.delete(entry.token);
      throw new LeaseLostError(handle.id, 'the lease expired');
    }
    const seconds = visibilitySecondsFor(leaseMs);
    try {
      const t = await this.ops.changeVisibility(entry.url, entry.receiptHandle, seconds);
      entry.sentAt = t.sentAt;
      entry.recvAt = t.recvAt;
      entry.visibilitySeconds = seconds;
      return new Date(leaseDeadline(entry));
    } catch (err) {
      if (isLeaseGone(err) || isQueueMissing(err)) {
        if (!entry.busy) this.leases.delete(entry.token);
        throw new LeaseLostError(handle.id, 'SQS no longer accepts the receipt handle');
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- close

  /**
   * Stop taking calls; end waiting pops; let open long polls finish (they cannot be cancelled
   * without stranding messages) and hand back what they bring; flush batched deletes and sends.
   * Leased jobs keep their leases, which expire as usual.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      for (const w of [...this.openWaiters]) w.close();
      await Promise.all([...this.pollers.values()].map((p) => p.idle()));
      await Promise.all([...this.aheads.values()]);
      // jobs received ahead go back at once (re-sent, attempt not counted), not after their lease
      await this.putBack(this.prefetch.removeWhere(() => true));
      await this.sends.drain();
      await this.deletes.drain();
      this.ops.client.destroy();
    })();
    return this.closing;
  }
}

function receiveCount(message: Message): number {
  const n = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
