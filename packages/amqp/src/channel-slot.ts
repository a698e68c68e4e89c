import type { Channel, Message } from 'amqplib';

/**
 * The consumer tag `confirmSent` cancels. RabbitMQ names our consumers itself (`amq.ctag-…`), so
 * no consumer ever has this tag, and cancelling an unknown tag is answered `cancel-ok` and
 * changes nothing (AMQP 0-9-1 requires the server to accept it; RabbitMQ's channel answers it
 * from its own consumer map, touching no queue).
 */
const CONFIRM_TAG = 'ilkkun.confirm-acks';

/** A confirmation callers wait on, not sent to the broker yet. */
interface PendingConfirm {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * One channel and the deliveries it holds. A delivery can only be acked on the channel it came
 * from, and only while that channel lives: once it closes, the broker has already put every
 * unacked delivery back in its queue. So every lease remembers its slot, and a settled or
 * expired lease on a dead slot is simply gone (LEASE_LOST), never acked "somewhere else".
 */
export class ChannelSlot {
  private closedFlag = false;
  private readonly closeListeners: Array<() => void> = [];
  /** the confirmation on its way to the broker, if any */
  private confirming: Promise<void> | undefined;
  /** the next confirmation, not sent yet: acks written until it is sent may still join it */
  private nextConfirm: PendingConfirm | undefined;

  constructor(
    readonly ch: Channel,
    /** the connection generation this channel belongs to */
    readonly gen: number,
  ) {
    ch.on('close', () => {
      if (this.closedFlag) return;
      this.closedFlag = true;
      for (const listener of this.closeListeners.splice(0)) listener();
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** true when the ack went out; false when the channel is gone (the broker requeued the delivery) */
  ack(msg: Message): boolean {
    if (this.closedFlag) return false;
    try {
      this.ch.ack(msg);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Resolves once the broker has processed every ack (and every other method) written on this
   * channel before the call; rejects when the channel or its connection dies first, and then
   * nothing is known of those acks. `basic.ack` has no reply in AMQP 0-9-1, and an ack that
   * only reached amqplib's buffer, or the socket, is lost if the process is killed a moment
   * later: the broker then hands the job out again. But a channel processes its methods in
   * order, so the reply to a synchronous method sent after the acks proves the broker has
   * them. The cheapest such method is `basic.cancel` of a tag that no consumer has (see
   * `CONFIRM_TAG`): it needs no queue, so it works whatever happened to the queues (a passive
   * `queue.declare` of a deleted queue would close the channel, and on a quorum queue it asks
   * the queue's leader for its counts).
   *
   * At most one confirmation is on its way per channel, and one waits behind it for everything
   * written meanwhile (amqplib sends a channel's synchronous methods one after another anyway),
   * so a caller acking job by job still costs one round trip per batch of acks, not per ack.
   */
  confirmSent(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new Error('the channel is closed'));
    if (this.nextConfirm) return this.nextConfirm.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.nextConfirm = { promise, resolve, reject };
    // a microtask later, so that callers acking in the same synchronous run share it
    if (!this.confirming) queueMicrotask(() => this.sendConfirm());
    return promise;
  }

  private sendConfirm(): void {
    const next = this.nextConfirm;
    if (!next || this.confirming) return;
    // acks written from here on need the confirmation after this one
    this.nextConfirm = undefined;
    const sent = this.ch.cancel(CONFIRM_TAG).then(() => undefined);
    this.confirming = sent;
    sent.then(next.resolve, next.reject).finally(() => {
      this.confirming = undefined;
      this.sendConfirm();
    });
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    try {
      await this.ch.close();
    } catch {
      // already closing with its connection
    }
  }
}

/**
 * Opens a channel on demand and opens a new one after it died (or after a reconnect). Each
 * new channel is announced through `onOpen`, each death through `onClosed`.
 */
export class SlotHolder {
  private slot: ChannelSlot | undefined;
  private promise: Promise<ChannelSlot> | undefined;
  private closed = false;

  constructor(
    private readonly open: () => Promise<{ ch: ChannelSlot['ch']; gen: number }>,
    private readonly onOpen: (slot: ChannelSlot) => void,
    private readonly onClosed: (slot: ChannelSlot) => void,
  ) {}

  /** The live channel, if one is open. */
  get current(): ChannelSlot | undefined {
    return this.slot && !this.slot.closed ? this.slot : undefined;
  }

  get(): Promise<ChannelSlot> {
    if (this.promise && !this.slot?.closed) return this.promise;
    const created: Promise<ChannelSlot> = this.open().then(({ ch, gen }) => {
      const slot = new ChannelSlot(ch, gen);
      if (this.promise !== created || this.closed) {
        void slot.close();
        throw new Error('channel no longer wanted');
      }
      this.slot = slot;
      this.onOpen(slot);
      slot.onClose(() => {
        if (this.slot === slot) {
          this.slot = undefined;
          this.promise = undefined;
        }
        this.onClosed(slot);
      });
      return slot;
    });
    created.catch(() => {
      if (this.promise === created) this.promise = undefined;
    });
    this.promise = created;
    this.slot = undefined;
    return created;
  }

  async close(): Promise<void> {
    this.closed = true;
    const slot = this.slot;
    this.slot = undefined;
    this.promise = undefined;
    if (slot) await slot.close();
  }
}
