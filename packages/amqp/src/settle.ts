import { sleep } from '@ilkkun/core';
import type { Message } from 'amqplib';
import type { ChannelSlot } from './channel-slot.js';
import { planHop } from './delay-buckets.js';
import { encodeMeta, type JobMeta, META_HEADER } from './envelope.js';
import type { ResolvedOptions } from './options.js';
import { priorityLevel } from './priority-map.js';
import type { Outgoing, Publisher } from './publisher.js';
import type { Topology } from './topology.js';
import { unconfirmedMoveError } from './unconfirmed.js';

/** A delivery this process holds on a channel: what settling it needs. */
export interface Held {
  slot: ChannelSlot;
  msg: Message;
  /** came through a consumer (counts against the channel's prefetch), not basic.get */
  fromConsumer: boolean;
  /** told when the delivery was acked, so prefetch bookkeeping stays right */
  onAcked(): void;
}

/** `ready`: the work queue, or a wait queue while `runAt` is ahead; `dead`: the dead queue. */
export type Destination = 'ready' | 'dead';

/**
 * Everything that changes a job in AMQP is "publish a new copy, then ack the old one": message
 * headers are immutable, and a requeue (nack) could not record the attempt, the error or a
 * delay. The copy is confirmed before the original is acked, so a crash in between leaves two
 * copies (at-least-once), never none; and a move is over only when the broker has confirmed the
 * ack too (`ChannelSlot.confirmSent`), so a process killed right after a requeue does not leave
 * the original behind to run once more.
 */
export class Settler {
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly publisher: Publisher,
    private readonly topology: Topology,
    private readonly options: ResolvedOptions,
    private readonly isClosed: () => boolean,
    /** host:port/vhost, for messages */
    private readonly where: string,
  ) {}

  /** The message for `meta` going to `dest`: a wait queue when its runAt is still ahead. */
  outgoing(meta: JobMeta, content: Buffer, dest: Destination, now = Date.now()): Outgoing {
    // Only what is needed: the broker parses, stores and sends every property of every job.
    // persistent: survives a broker restart (with a durable queue); mandatory: an unroutable
    // message (its queue was deleted) comes back instead of vanishing.
    const options: Outgoing['options'] = {
      messageId: meta.id,
      headers: { [META_HEADER]: encodeMeta(meta) },
      persistent: true,
      mandatory: true,
    };
    if (this.options.maxPriority > 0 && dest === 'ready') {
      options.priority = priorityLevel(meta.priority, this.options.maxPriority);
    }
    const names = this.topology.namesOf(meta.queue);
    if (dest === 'dead') {
      return { queue: names.dead, content, options, ensure: () => this.topology.ensureQueue(meta.queue) };
    }
    if (meta.runAt > now) {
      const bucket = planHop(meta.runAt - now);
      const wait = `${names.work}/wait/${bucket}`;
      return { queue: wait, content, options, ensure: () => this.topology.ensureWait(meta.queue, bucket) };
    }
    return { queue: names.work, content, options, ensure: () => this.topology.ensureQueue(meta.queue) };
  }

  /**
   * Step one of a move: the new copy, confirmed by the broker. Throws when it could not be
   * stored (nothing changed: the original is still held).
   */
  publishCopy(held: Held, meta: JobMeta, dest: Destination, doing: string): Promise<void> {
    return this.publisher.publish([this.outgoing(meta, held.msg.content, dest)], doing);
  }

  /**
   * Step two of a move: ack the original and wait until the broker confirms it has the ack.
   * Throws when that is not confirmed (the copy is stored; the original may come back).
   */
  async ackOriginal(held: Held, doing: string): Promise<void> {
    if (!held.slot.ack(held.msg)) {
      throw unconfirmedMoveError(this.where, doing, new Error('the channel holding the job had closed'));
    }
    held.onAcked();
    try {
      await held.slot.confirmSent();
    } catch (err) {
      throw unconfirmedMoveError(this.where, doing, err);
    }
  }

  /**
   * A move in the background: the copy is published again while the original is still held,
   * until it is stored; then the original is acked once. Used where nobody awaits the outcome
   * (a lease that expired, a redelivery being counted, a delayed job on its next hop). If the
   * channel dies first the broker has the original back, and whoever gets it next does the same
   * work.
   */
  moveInBackground(held: Held, meta: JobMeta, dest: Destination, doing: string): void {
    const task = (async () => {
      for (let delay = 200; !held.slot.closed && !this.isClosed(); delay = Math.min(5000, delay * 2)) {
        try {
          await this.publishCopy(held, meta, dest, doing);
        } catch {
          await sleep(delay);
          continue;
        }
        // An ack that is not confirmed is not sent again: its channel is gone, and with it the
        // delivery (the broker has it back if the ack did not arrive).
        await this.ackOriginal(held, doing).catch(() => undefined);
        return;
      }
    })();
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** Wait (bounded) for background moves in flight, so `close()` does not cut one between publish and ack. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.background.size === 0) return;
    await Promise.race([Promise.all([...this.background]), sleep(timeoutMs)]);
  }
}
