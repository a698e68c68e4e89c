import { hasErrorCode, type LeasedJobRecord } from '@ilkkun/core';
import type { Message } from 'amqplib';
import { type ChannelSlot, SlotHolder } from './channel-slot.js';
import { classifyError } from './classify-error.js';
import type { AmqpConnection } from './connection.js';
import { decodeMeta, type JobMeta, toRecord, unsettledDeliveries } from './envelope.js';
import type { LeaseEntry, LeaseTable } from './lease-table.js';
import type { QueueNames } from './names.js';
import type { Held, Settler } from './settle.js';
import type { Topology } from './topology.js';
import { triage } from './triage.js';
import { WaitList } from './wait-list.js';

/** A job handed out by `pop`: its lease deadline and the delivery it stands for. */
export interface AmqpLease extends LeaseEntry {
  attemptsMade: number;
  meta: JobMeta;
  held: Held;
  sub: Subscription;
}

/** What a subscription needs from the backend that owns it. */
export interface SubscriptionHost {
  readonly conn: AmqpConnection;
  readonly topology: Topology;
  readonly settler: Settler;
  readonly leases: LeaseTable<AmqpLease>;
  /** quorum queues refuse consumers on a channel with a per-channel (global) prefetch */
  readonly quorum: boolean;
  newToken(): string;
  newId(): string;
}

/** One basic.consume: its own prefetch (single-queue mode) and the deliveries it has out. */
interface Consumer {
  tag: string;
  prefetch: number;
  /** its deliveries not yet acked (buffered, leased, or being moved) */
  held: number;
  active: boolean;
}

/** A delivery that may be handed out, received through a consumer before anyone asked for it. */
interface Buffered {
  slot: ChannelSlot;
  queue: string;
  msg: Message;
  meta: JobMeta;
  /** the consumer it came from; undefined for basic.get */
  consumer: Consumer | undefined;
}

/** After the last pop, consumers stay this long for the next one (a runner pops again within ms). */
const LINGER_MS = 250;
/** A basic.get pop skips at most this many not-yet-due or redelivered messages before returning what it has. */
const MAX_SKIPPED_PER_POP = 1000;
/** basic.qos prefetch-count is a 16-bit field; 0 would mean "unlimited". */
const MAX_PREFETCH = 65_535;

const clampPrefetch = (n: number) => Math.max(1, Math.min(MAX_PREFETCH, n));

/**
 * The consuming side of one set of queues (one `pop(queues)` shape, e.g. one runner slot group),
 * on channels of its own.
 *
 * - `pop` with `waitMs: 0` takes what was already delivered, then uses basic.get (on a second
 *   channel, so those deliveries never count against the consumers' prefetch): it must say
 *   "nothing" at once, which a consumer cannot.
 * - `pop` with `waitMs > 0` registers a waiter and consumes. The broker may send exactly as many
 *   jobs as the callers have free slots (seed 004's QoS: a busy worker is skipped), oldest
 *   waiter first:
 *   - one queue: a per-consumer prefetch, which is what RabbitMQ serves fastest. It cannot be
 *     changed on a running consumer, so when waiters want more than the consumer may still
 *     take, it is replaced by one with a larger prefetch. A runner asks for its free slots each
 *     time, so after its first pop the prefetch equals its concurrency and never changes.
 *   - several queues: a per-channel prefetch (basic.qos global) of "held + wanted", raised in
 *     place: exact across queues, a little slower in the broker. Quorum queues refuse consumers
 *     under a per-channel prefetch, so there each queue's consumer gets its own (and up to that
 *     many per queue may arrive ahead, into the buffer).
 * - While pops keep coming, the consumers stay: after an ack the broker may already push the
 *   next job, which waits in a small buffer for the pop that a runner makes right after its ack.
 *   That is what lets a consumer keep up with the raw amqplib loop.
 * - When no pop came for `LINGER_MS` (or one was aborted: a runner stopping), the consumers are
 *   cancelled, so an idle or busy process stops receiving jobs, and whatever arrived unasked is
 *   given back (republished, so it is not counted as an attempt).
 *
 * Deliveries that must not be handed out are settled here first: a delayed job that came back
 * before its `runAt` (one hop of its delay) is sent on its next hop, and a redelivered job (its
 * holder died or lost its connection) is re-published with that attempt counted and "lease
 * expired" recorded — or moved to dead when its attempts are used up, so a job that kills its
 * worker cannot loop.
 */
export class Subscription {
  /** consumers live here */
  private readonly consumeChannel: SlotHolder;
  /** basic.get lives on its own channel */
  private readonly getChannel: SlotHolder;
  /** per-consumer prefetch for one queue; per-channel for several */
  private readonly perConsumer: boolean;
  /** work queue name → its running consumer, on the current consume channel */
  private readonly consumers = new Map<string, Consumer>();
  private consuming: Promise<void> | undefined;
  private idling: Promise<void> | undefined;
  private buffer: Buffered[] = [];
  private readonly waiters: WaitList;
  /** consumer deliveries not yet acked on the current consume channel, all consumers together */
  private held = 0;
  /** several queues: the per-channel prefetch last sent */
  private channelPrefetch = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastPopAt = Date.now();
  private resumeAgain = false;
  private closing = false;
  /** leases from this subscription still live */
  leased = 0;

  constructor(
    private readonly host: SubscriptionHost,
    readonly queues: readonly string[],
  ) {
    this.perConsumer = queues.length === 1 || host.quorum;
    this.waiters = new WaitList((aborted) => {
      this.lastPopAt = Date.now();
      // An aborted pop is a caller stopping (a runner shutting down): stop receiving at once.
      if (aborted && this.waiters.size === 0 && !this.closing) void this.goIdle();
    });
    const open = async () => ({ ch: await host.conn.channel(), gen: host.conn.generation });
    this.consumeChannel = new SlotHolder(
      open,
      () => this.resetConsumers(),
      (slot) => this.onSlotClosed(slot, true),
    );
    this.getChannel = new SlotHolder(
      open,
      () => undefined,
      (slot) => this.onSlotClosed(slot, false),
    );
  }

  /** Nothing held, nothing waiting: safe to close. */
  get idle(): boolean {
    return this.waiters.size === 0 && this.buffer.length === 0 && this.leased === 0 && this.held === 0;
  }

  get lastUsed(): number {
    return this.lastPopAt;
  }

  /** Ready jobs of `queue` delivered to this process but not handed out yet (they are "waiting" for counts). */
  bufferedOf(queue: string): number {
    let n = 0;
    for (const b of this.buffer) if (b.queue === queue) n++;
    return n;
  }

  async pop(max: number, leaseMs: number, waitMs: number, signal?: AbortSignal): Promise<LeasedJobRecord[]> {
    this.lastPopAt = Date.now();
    const out: LeasedJobRecord[] = [];
    while (out.length < max && this.buffer.length > 0) {
      const b = this.buffer.shift()!;
      if (!b.slot.closed) out.push(this.lease(b, leaseMs));
    }
    if (out.length >= max || (out.length > 0 && waitMs > 0)) return out;
    if (waitMs === 0) {
      try {
        out.push(...(await this.getNow(max - out.length, leaseMs)));
      } catch (err) {
        if (out.length === 0) throw err;
      }
      return out;
    }
    if (signal?.aborted) return out;
    const waiting = this.waiters.wait(max, leaseMs, waitMs, signal);
    this.resume();
    return waiting;
  }

  /** Consume (again) for the waiters: a new waiter, a reconnect, a lost channel or consumer. */
  resume(): void {
    if (this.closing || this.waiters.size === 0) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (this.consuming) {
      // waiters that come while a consumer is being set up may want more than it will take
      this.resumeAgain = true;
      return;
    }
    if (this.satisfiable()) return;
    this.ensureConsuming().then(
      () => {
        if (this.resumeAgain) {
          this.resumeAgain = false;
          this.resume();
        }
      },
      (err: unknown) => {
        this.resumeAgain = false;
        this.onConsumeError(err);
      },
    );
  }

  private wanted(): number {
    return this.waiters.wanted();
  }

  /** The running consumers may take as many as the waiters want (no basic.qos or re-consume needed). */
  private satisfiable(): boolean {
    const slot = this.consumeChannel.current;
    if (!slot || this.consumers.size < this.queues.length) return false;
    if (this.perConsumer) {
      const wanted = this.wanted();
      for (const c of this.consumers.values()) {
        if (c.prefetch - c.held < wanted && c.prefetch !== MAX_PREFETCH) return false;
      }
      return true;
    }
    return this.channelPrefetch >= this.held + this.wanted() || this.channelPrefetch === MAX_PREFETCH;
  }

  private onConsumeError(err: unknown): void {
    // A refused setting (a queue declared elsewhere with other arguments) will not heal: say so.
    if (hasErrorCode(err, 'CONFIG') || hasErrorCode(err, 'BACKEND_CLOSED')) {
      this.waiters.failAll(err);
      return;
    }
    // Down: the connection's `up` event calls resume(). A channel-only failure: try again shortly.
    if (this.host.conn.state === 'up' && !this.retryTimer && this.waiters.size > 0 && !this.closing) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.resume();
      }, 200);
    }
  }

  private resetConsumers(): void {
    for (const c of this.consumers.values()) c.active = false;
    this.consumers.clear();
    this.held = 0;
    this.channelPrefetch = 0;
  }

  /**
   * A channel died (its connection dropped, the broker closed it, consumer_timeout fired). The
   * broker has put back every delivery it held: the buffer is void, and every lease on it is
   * lost (LEASE_LOST from now on; whoever gets the job next counts the attempt).
   */
  private onSlotClosed(slot: ChannelSlot, consumer: boolean): void {
    for (const lease of this.host.leases.removeWhere((l) => l.held.slot === slot)) lease.sub.leaseEnded();
    if (!consumer) return;
    this.buffer = this.buffer.filter((b) => b.slot !== slot);
    this.resetConsumers();
    this.stopIdleTimer();
    if (this.waiters.size > 0 && this.host.conn.state === 'up')
      this.onConsumeError(new Error('channel closed'));
  }

  private ensureConsuming(): Promise<void> {
    this.consuming ??= this.startConsuming().finally(() => {
      this.consuming = undefined;
    });
    return this.consuming;
  }

  private async startConsuming(): Promise<void> {
    if (this.idling) await this.idling;
    if (this.waiters.size === 0 || this.closing) return;
    const slot = await this.consumeChannel.get();
    const names = await Promise.all(this.queues.map((q) => this.host.topology.ensureQueue(q)));
    try {
      if (this.perConsumer) {
        for (const [i, n] of names.entries()) await this.consumeOne(slot, this.queues[i]!, n);
      } else {
        await this.consumeAll(slot, names);
      }
    } catch (err) {
      throw classifyError(err, this.host.conn.where, `consuming from ${this.queues.join(', ')}`);
    }
    this.startIdleTimer();
  }

  /**
   * A consumer whose own prefetch covers what the waiters want, replacing a smaller one. With
   * several (quorum) queues each gets that much, so up to that many per queue may arrive
   * ahead; they wait in the buffer for the next pops.
   */
  private async consumeOne(slot: ChannelSlot, queue: string, names: QueueNames): Promise<void> {
    const wanted = this.wanted();
    const current = this.consumers.get(names.work);
    if (current && (current.prefetch - current.held >= wanted || current.prefetch === MAX_PREFETCH)) return;
    if (current) {
      // Deliveries it already has stay valid (acks are per channel); it just gets no more.
      current.active = false;
      this.consumers.delete(names.work);
      await slot.ch.cancel(current.tag).catch(() => undefined);
    }
    if (slot.closed || this.waiters.size === 0) return;
    // Exactly what is wanted: deliveries of replaced consumers still out do not count against
    // the new one, so a larger value would let this process take more than its free slots.
    const prefetch = clampPrefetch(wanted);
    const consumer: Consumer = { tag: '', prefetch, held: 0, active: true };
    await slot.ch.prefetch(prefetch, false);
    const { consumerTag } = await slot.ch.consume(
      names.work,
      (msg) => this.onDelivery(slot, queue, names, consumer, msg),
      { noAck: false },
    );
    consumer.tag = consumerTag;
    if (consumer.active) this.consumers.set(names.work, consumer);
  }

  /** Several queues: one consumer each, under one per-channel prefetch of "held + wanted". */
  private async consumeAll(slot: ChannelSlot, names: QueueNames[]): Promise<void> {
    const want = clampPrefetch(this.held + this.wanted());
    // with no consumer running any value is safe, so start from exactly what is wanted
    if (this.consumers.size === 0 || want > this.channelPrefetch) {
      this.channelPrefetch = want;
      await slot.ch.prefetch(want, true);
    }
    for (const [i, n] of names.entries()) {
      if (this.consumers.has(n.work) || slot.closed) continue;
      const queue = this.queues[i]!;
      const consumer: Consumer = { tag: '', prefetch: 0, held: 0, active: true };
      const { consumerTag } = await slot.ch.consume(
        n.work,
        (msg) => this.onDelivery(slot, queue, n, consumer, msg),
        {
          noAck: false,
        },
      );
      consumer.tag = consumerTag;
      if (consumer.active) this.consumers.set(n.work, consumer);
    }
  }

  private onDelivery(
    slot: ChannelSlot,
    queue: string,
    names: QueueNames,
    consumer: Consumer,
    msg: Message | null,
  ): void {
    if (msg === null) {
      // The broker cancelled the consumer: its queue was deleted (a purge, an operator).
      consumer.active = false;
      if (this.consumers.get(names.work) === consumer) this.consumers.delete(names.work);
      this.host.topology.forget(names.work);
      this.host.topology.forget(names.dead);
      if (this.waiters.size > 0) this.onConsumeError(new Error('consumer cancelled by the broker'));
      return;
    }
    if (slot !== this.consumeChannel.current) return;
    this.held++;
    consumer.held++;
    const b = this.admit(slot, queue, msg, consumer);
    if (!b) {
      // It used up prefetch without feeding a waiter. A per-channel limit is raised at once; a
      // consumer's own limit frees itself when the move acks it, a few ms later (re-consuming
      // for every early hop of a delayed job would churn).
      if (!this.perConsumer && this.waiters.size > 0) this.resume();
      return;
    }
    if (!this.waiters.give((leaseMs) => this.lease(b, leaseMs))) this.buffer.push(b);
  }

  private heldOf(slot: ChannelSlot, msg: Message, consumer: Consumer | undefined): Held {
    return {
      slot,
      msg,
      fromConsumer: consumer !== undefined,
      onAcked: () => {
        if (!consumer || slot !== this.consumeChannel.current) return;
        if (consumer.held > 0) consumer.held--;
        if (this.held > 0) this.held--;
      },
    };
  }

  /** A delivery that may be handed out now, or undefined when it was sent elsewhere first. */
  private admit(
    slot: ChannelSlot,
    queue: string,
    msg: Message,
    consumer: Consumer | undefined,
  ): Buffered | undefined {
    const meta = decodeMeta(msg, queue, this.host.newId);
    const t = triage(meta, unsettledDeliveries(msg), Date.now());
    if (t.kind === 'hand-out') return { slot, queue, msg, meta, consumer };
    this.host.settler.moveInBackground(this.heldOf(slot, msg, consumer), t.meta, t.dest, t.doing);
    return undefined;
  }

  private lease(b: Buffered, leaseMs: number): LeasedJobRecord {
    const attemptsMade = b.meta.attempts + 1;
    const token = this.host.newToken();
    const expiresAt = Date.now() + leaseMs;
    this.host.leases.add({
      token,
      jobId: b.meta.id,
      queue: b.queue,
      expiresAt,
      attemptsMade,
      meta: b.meta,
      held: this.heldOf(b.slot, b.msg, b.consumer),
      sub: this,
    });
    this.leased++;
    return {
      ...toRecord(b.meta, b.msg.content.toString('utf8'), attemptsMade),
      lease: { token, expiresAt: new Date(expiresAt) },
    };
  }

  leaseEnded(): void {
    if (this.leased > 0) this.leased--;
  }

  /**
   * A job is being handed back unattempted (a pool shutting down): with no pop waiting, stop
   * consuming first. Otherwise the broker pushes the released copy straight back into this
   * process's prefetch buffer, where a process that exits before closing the backend leaves it
   * flagged redelivered — counted as an attempt, as if a holder had crashed.
   */
  async quiesce(): Promise<void> {
    if (this.waiters.size === 0 && !this.closing) await this.goIdle();
  }

  /** While consumers run, check now and then whether pops stopped coming. */
  private startIdleTimer(): void {
    if (this.idleTimer || this.consumers.size === 0) return;
    this.idleTimer = setInterval(() => {
      if (this.waiters.size === 0 && Date.now() - this.lastPopAt >= LINGER_MS) void this.goIdle();
    }, LINGER_MS);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** No pop waits: cancel the consumers, and give back what arrived unasked. */
  private goIdle(): Promise<void> {
    this.idling ??= (async () => {
      if (this.consuming) await this.consuming.catch(() => undefined);
      if (this.waiters.size > 0) return;
      this.stopIdleTimer();
      const slot = this.consumeChannel.current;
      const running = [...this.consumers.values()];
      for (const c of running) c.active = false;
      this.consumers.clear();
      if (slot) {
        // deliveries already on their way arrive before each cancel-ok, into the buffer
        await Promise.all(running.map((c) => slot.ch.cancel(c.tag).catch(() => undefined)));
      }
      if (this.waiters.size === 0) this.giveBackBuffer();
    })().finally(() => {
      this.idling = undefined;
    });
    return this.idling;
  }

  /**
   * Jobs the broker pushed ahead (prefetch) that no pop took. A nack would put them back in
   * place but mark them redelivered — indistinguishable from a crashed holder, so they would
   * be counted as an attempt. Re-publishing them (to the back of the queue) counts nothing.
   */
  private giveBackBuffer(): void {
    const buffered = this.buffer;
    this.buffer = [];
    for (const b of buffered) {
      if (b.slot.closed) continue;
      this.host.settler.moveInBackground(
        this.heldOf(b.slot, b.msg, b.consumer),
        b.meta,
        'ready',
        'giving back a job',
      );
    }
  }

  /** basic.get until `want` jobs, or every queue is empty. */
  private async getNow(want: number, leaseMs: number): Promise<LeasedJobRecord[]> {
    const slot = await this.getChannel.get();
    const names = await Promise.all(this.queues.map((q) => this.host.topology.ensureQueue(q)));
    const out: LeasedJobRecord[] = [];
    let skipped = 0;
    for (const [i, n] of names.entries()) {
      while (out.length < want && skipped < MAX_SKIPPED_PER_POP) {
        let msg: Message | false;
        try {
          msg = await slot.ch.get(n.work, { noAck: false });
        } catch (err) {
          if (out.length > 0) return out;
          throw classifyError(err, this.host.conn.where, `getting from ${n.work}`);
        }
        if (!msg) break;
        const b = this.admit(slot, this.queues[i]!, msg, undefined);
        if (b) out.push(this.lease(b, leaseMs));
        else skipped++;
      }
    }
    return out;
  }

  /** Drop what this process holds of a purged queue (it is gone from the broker). */
  dropQueue(queue: string): number {
    const dropped = this.buffer.filter((b) => b.queue === queue);
    this.buffer = this.buffer.filter((b) => b.queue !== queue);
    for (const b of dropped) if (b.slot.ack(b.msg)) this.heldOf(b.slot, b.msg, b.consumer).onAcked();
    return dropped.length;
  }

  /** Stop: end waiting pops, stop consuming, give back unasked deliveries. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.waiters.endAll();
    await this.goIdle();
  }

  /** Close both channels: whatever they still hold goes back to the broker (leased jobs count as expired). */
  async closeChannels(): Promise<void> {
    this.closing = true;
    this.stopIdleTimer();
    await Promise.all([this.consumeChannel.close(), this.getChannel.close()]);
  }
}
