import { randomBytes, randomUUID } from 'node:crypto';
import {
  assertLeaseMs,
  assertQueueName,
  type Backend,
  BackendClosedError,
  type Capabilities,
  type LeasedJobRecord,
  type LeaseHandle,
  LeaseLostError,
  leaseExpiredError,
  type NewJob,
  normalizePopOptions,
  type PopOptions,
  type PushResult,
  type RequeueOptions,
  sleep,
  UnsupportedFeatureError,
} from '@ilkkun/core';
import { AckOutcomes } from './ack-outcomes.js';
import { amqpCapabilities } from './capabilities.js';
import type { ChannelSlot } from './channel-slot.js';
import type { AmqpConnection } from './connection.js';
import type { JobMeta } from './envelope.js';
import { AmqpInspector } from './inspector.js';
import { LeaseTable } from './lease-table.js';
import type { ResolvedOptions } from './options.js';
import { Publisher } from './publisher.js';
import { type Destination, Settler } from './settle.js';
import { type AmqpLease, Subscription, type SubscriptionHost } from './subscription.js';
import { Topology } from './topology.js';
import { unconfirmedAcksError } from './unconfirmed.js';

/** An unused subscription (no waiters, leases or buffer) closes its channel after this long. */
const RETIRE_AFTER_MS = 30_000;
/** How long `close()` waits for in-flight republishes (given-back jobs) to be confirmed. */
const CLOSE_DRAIN_MS = 5_000;

/**
 * The AMQP backend: RabbitMQ queues as the store, the channel as the lease.
 *
 * - push: persistent messages on durable queues, published with confirms (resolves once the
 *   broker has them); a delayed job goes to a TTL wait queue first.
 * - pop: consumers with prefetch = jobs wanted (or basic.get for `waitMs: 0`), per queue set
 *   (see `Subscription`). Each handed-out delivery gets a lease with a deadline this process
 *   keeps (`LeaseTable`).
 * - ack: basic.ack, resolved once the broker has confirmed it has the ack (a synchronous method
 *   after the acks of a batch, see `ChannelSlot.confirmSent`). requeue / lease expiry: a new
 *   copy with the attempt, error and delay recorded (confirmed), then basic.ack of the old one
 *   (confirmed too; see `Settler`).
 * - a worker that dies or loses its connection: the broker requeues its deliveries; the next
 *   receiver sees them redelivered and counts the attempt (dead once attempts are used up).
 */
export class AmqpBackend implements Backend {
  readonly name = 'amqp';
  readonly capabilities: Capabilities;
  readonly inspector: AmqpInspector;
  readonly topology: Topology;
  readonly publisher: Publisher;
  readonly settler: Settler;
  readonly leases: LeaseTable<AmqpLease>;
  private readonly host: SubscriptionHost;
  private readonly subs = new Map<string, Subscription>();
  private readonly outcomes = new AckOutcomes();
  private readonly instance = randomBytes(6).toString('hex');
  private seq = 0;
  private closing = false;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly conn: AmqpConnection,
    readonly options: ResolvedOptions,
  ) {
    this.capabilities = amqpCapabilities(options);
    this.topology = new Topology(conn, options);
    this.publisher = new Publisher(conn, options.publishTimeoutMs, (queue) => this.topology.forget(queue));
    this.settler = new Settler(this.publisher, this.topology, options, () => this.closed, conn.where);
    this.leases = new LeaseTable<AmqpLease>((lease) => this.onLeaseExpired(lease));
    const host: SubscriptionHost & { subscriptions(): Iterable<Subscription>; assertOpen(): void } = {
      conn,
      topology: this.topology,
      settler: this.settler,
      leases: this.leases,
      quorum: options.queueType === 'quorum',
      newToken: () => `${this.instance}.${(++this.seq).toString(36)}`,
      newId: () => randomUUID(),
      subscriptions: () => this.subs.values(),
      assertOpen: () => this.assertOpen(),
    };
    this.host = host;
    this.inspector = new AmqpInspector({ ...host, publisher: this.publisher });
    // after a reconnect, waiting pops consume again
    conn.on('up', () => {
      for (const sub of this.subs.values()) sub.resume();
    });
    this.sweeper = setInterval(() => this.retireIdle(), RETIRE_AFTER_MS / 2);
    this.sweeper.unref();
  }

  /** Broker queues this instance declared (tests delete them afterwards). */
  declaredQueues(): string[] {
    return [...this.topology.declaredNames];
  }

  private assertOpen(): void {
    if (this.closing) throw new BackendClosedError('amqp backend');
  }

  async push(jobs: readonly NewJob[]): Promise<PushResult[]> {
    this.assertOpen();
    for (const job of jobs) {
      assertQueueName(job.queue);
      if (job.uniqueKey !== undefined) {
        throw new UnsupportedFeatureError(
          'uniqueKey',
          this.name,
          'a RabbitMQ queue cannot look jobs up by key; de-duplicate before adding, or use another backend',
        );
      }
    }
    const now = Date.now();
    const metas: JobMeta[] = jobs.map((job) => {
      const meta: JobMeta = {
        id: randomUUID(),
        queue: job.queue,
        priority: job.priority,
        runAt: job.runAt.getTime(),
        attempts: 0,
        maxAttempts: job.maxAttempts,
        createdAt: now,
      };
      if (job.backoff) meta.backoff = job.backoff;
      return meta;
    });
    // A queue is FIFO: publishing a batch in runAt order is what makes "earlier runAt first"
    // hold among jobs added together (a stable sort keeps insertion order for equal runAt).
    const order = metas.map((_, i) => i).sort((a, b) => metas[a]!.runAt - metas[b]!.runAt);
    const outs = order.map((i) =>
      this.settler.outgoing(metas[i]!, Buffer.from(jobs[i]!.payload, 'utf8'), 'ready', now),
    );
    await this.publisher.publish(outs, 'pushing jobs');
    return metas.map((m) => ({ id: m.id, duplicate: false }));
  }

  async pop(queues: readonly string[], options: PopOptions = {}): Promise<LeasedJobRecord[]> {
    this.assertOpen();
    const { max, leaseMs, waitMs, signal } = normalizePopOptions(options);
    for (const q of queues) assertQueueName(q);
    const unique = [...new Set(queues)].sort();
    if (unique.length === 0) {
      await sleep(waitMs, signal);
      return [];
    }
    const key = unique.join('\n');
    let sub = this.subs.get(key);
    if (!sub) {
      sub = new Subscription(this.host, unique);
      this.subs.set(key, sub);
    }
    return sub.pop(max, leaseMs, waitMs, signal);
  }

  async ack(handle: LeaseHandle): Promise<void> {
    const [lost] = await this.ackMany([handle]);
    if (lost) throw lost;
  }

  /**
   * Write every ack of the batch, then one confirmation per channel involved: resolves when the
   * broker has processed them all. `basic.ack` has no reply, and an ack still in this process
   * or in the socket when the process is killed is lost (the broker hands the job out again,
   * which then completes a second time), so an ack counts only once confirmed. When a channel
   * dies before its confirmation, the batch fails with a retryable error (never a success);
   * sent again, each ack answers what is known: acked when its own channel confirmed it,
   * LEASE_LOST otherwise.
   */
  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    const out: Array<LeaseLostError | null> = new Array<LeaseLostError | null>(handles.length).fill(null);
    const written: AmqpLease[] = [];
    const slots: ChannelSlot[] = [];
    for (let i = 0; i < handles.length; i++) {
      const handle = handles[i]!;
      let lease: AmqpLease;
      try {
        lease = this.leases.claim(handle);
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err;
        const known = this.outcomes.answer(handle);
        out[i] = known === undefined ? err : known;
        continue;
      }
      if (!lease.held.slot.ack(lease.held.msg)) {
        this.settled(lease);
        out[i] = new LeaseLostError(
          handle.id,
          'the channel holding it closed; the broker hands the job out again',
        );
        continue;
      }
      lease.held.onAcked();
      written.push(lease);
      if (!slots.includes(lease.held.slot)) slots.push(lease.held.slot);
    }
    if (written.length === 0) return out;
    const failed = new Map<ChannelSlot, unknown>();
    await Promise.all(
      slots.map((slot) => slot.confirmSent().catch((err: unknown) => void failed.set(slot, err))),
    );
    for (const lease of written) this.settled(lease);
    if (failed.size === 0) return out;
    // Some acks are unconfirmed. Keep what is known for the caller that sends the batch again.
    let unknown = 0;
    const sent = new Set<string>();
    for (const lease of written) {
      const confirmed = !failed.has(lease.held.slot);
      if (!confirmed) unknown++;
      sent.add(lease.token);
      this.outcomes.remember(lease.token, lease.jobId, confirmed);
    }
    for (let i = 0; i < handles.length; i++) {
      // acks this batch answered "acked" from an earlier failed batch: answer that again
      const handle = handles[i]!;
      if (out[i] === null && !sent.has(handle.lease.token))
        this.outcomes.remember(handle.lease.token, handle.id, true);
    }
    throw unconfirmedAcksError(this.conn.where, unknown, failed.values().next().value);
  }

  /** A claimed lease's settlement is over: it no longer counts as held. */
  private settled(lease: AmqpLease): void {
    this.leases.release(lease);
    lease.sub.leaseEnded();
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const lease = this.leases.claim(handle);
    const now = Date.now();
    const meta: JobMeta = { ...lease.meta };
    let dest: Destination = 'ready';
    if (options.release) {
      // handed back unattempted: the copy carries the count from before this pop
      meta.attempts = lease.attemptsMade - 1;
      meta.runAt = options.runAt ? options.runAt.getTime() : now;
    } else {
      meta.attempts = lease.attemptsMade;
      if (options.error) meta.lastError = { ...options.error };
      if (options.dead) dest = 'dead';
      else meta.runAt = options.runAt ? options.runAt.getTime() : now;
    }
    try {
      if (options.release) await lease.sub.quiesce();
      await this.settler.publishCopy(lease.held, meta, dest, 'requeueing a job');
    } catch (err) {
      // Not stored: keep holding the job so its lease runs its course (it then comes back as expired).
      if (!lease.held.slot.closed && !this.closing) this.leases.unclaim(lease);
      else this.settled(lease);
      throw err;
    }
    try {
      await this.settler.ackOriginal(lease.held, 'requeueing a job');
    } finally {
      this.settled(lease);
    }
  }

  async extend(handle: LeaseHandle, leaseMs: number): Promise<Date> {
    this.assertOpen();
    const ms = assertLeaseMs(leaseMs, 'extend leaseMs');
    const lease = this.leases.peek(handle);
    return new Date(this.leases.extend(lease, ms));
  }

  /** The deadline passed without ack or requeue: give the job back with the attempt counted, or bury it. */
  private onLeaseExpired(lease: AmqpLease): void {
    lease.sub.leaseEnded();
    if (lease.held.slot.closed) return;
    const now = Date.now();
    const meta: JobMeta = {
      ...lease.meta,
      attempts: lease.attemptsMade,
      runAt: now,
      lastError: leaseExpiredError(lease.attemptsMade, now),
    };
    const dest: Destination = lease.attemptsMade >= meta.maxAttempts ? 'dead' : 'ready';
    this.settler.moveInBackground(lease.held, meta, dest, 'giving back a job whose lease expired');
  }

  private retireIdle(): void {
    const cutoff = Date.now() - RETIRE_AFTER_MS;
    for (const [key, sub] of this.subs) {
      if (sub.idle && sub.lastUsed < cutoff) {
        this.subs.delete(key);
        void sub.closeChannels();
      }
    }
  }

  /**
   * Stop: waiting pops return, consumers are cancelled, jobs delivered ahead but not handed out
   * are given back, then the connection closes. Jobs still leased go back to the broker with
   * the channel and are counted as an expired lease by whoever receives them next.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.sweeper);
    try {
      await Promise.all([...this.subs.values()].map((sub) => sub.close()));
      await this.settler.drain(Math.min(CLOSE_DRAIN_MS, this.options.publishTimeoutMs));
    } finally {
      this.closed = true;
      this.leases.stop();
      this.subs.clear();
      await this.conn.close();
    }
  }
}
