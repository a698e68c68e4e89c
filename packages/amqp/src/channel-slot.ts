import type { Channel, Message } from 'amqplib';

/**
 * One channel and the deliveries it holds. A delivery can only be acked on the channel it came
 * from, and only while that channel lives: once it closes, the broker has already put every
 * unacked delivery back in its queue. So every lease remembers its slot, and a settled or
 * expired lease on a dead slot is simply gone (LEASE_LOST), never acked "somewhere else".
 */
export class ChannelSlot {
  private closedFlag = false;
  private readonly closeListeners: Array<() => void> = [];

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
