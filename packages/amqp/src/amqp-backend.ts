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
import { amqpCapabilities } from './capabilities.js';
import type { AmqpConnection } from './connection.js';
import type { JobMeta } from './envelope.js';
import { AmqpInspector } from './inspector.js';
import { LeaseTable } from './lease-table.js';
import type { ResolvedOptions } from './options.js';
import { Publisher } from './publisher.js';
import { type Destination, Settler } from './settle.js';
import { type AmqpLease, Subscription, type SubscriptionHost } from './subscription.js';
import { Topology } from './topology.js';

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
 * - ack: basic.ack. requeue / lease expiry: a new copy with the attempt, error and delay
 *   recorded (confirmed), then basic.ack of the old one (see `Settler`).
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
    this.settler = new Settler(this.publisher, this.topology, options, () => this.closed);
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
    this.assertOpen();
    // basic.ack has no reply. It leaves with the next batch of writes (and, should the process
    // exit first, from the connection's exit hook); waiting for that here would cost a runner
    // two event-loop turns per job.
    this.ackNow(handle);
  }

  private ackNow(handle: LeaseHandle): void {
    const lease = this.leases.take(handle);
    lease.sub.leaseEnded();
    if (!lease.held.slot.ack(lease.held.msg)) {
      throw new LeaseLostError(
        handle.id,
        'the channel holding it closed; the broker hands the job out again',
      );
    }
    lease.held.onAcked();
  }

  async ackMany(handles: readonly LeaseHandle[]): Promise<Array<LeaseLostError | null>> {
    this.assertOpen();
    const out: Array<LeaseLostError | null> = [];
    for (const handle of handles) {
      try {
        this.ackNow(handle);
        out.push(null);
      } catch (err) {
        if (err instanceof LeaseLostError) out.push(err);
        else throw err;
      }
    }
    return out;
  }

  async requeue(handle: LeaseHandle, options: RequeueOptions = {}): Promise<void> {
    this.assertOpen();
    const lease = this.leases.take(handle);
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
      await this.settler.move(lease.held, meta, dest, 'requeueing a job');
      lease.sub.leaseEnded();
      // rare and already a round trip: also wait until the ack of the old copy has left
      await this.conn.flushed();
    } catch (err) {
      // Not stored: keep holding the job so its lease runs its course (it then comes back as expired).
      if (!lease.held.slot.closed && !this.closing) this.leases.restore(lease);
      else lease.sub.leaseEnded();
      throw err;
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
