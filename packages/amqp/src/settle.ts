import { sleep } from '@ilkkun/core';
import type { Message } from 'amqplib';
import type { ChannelSlot } from './channel-slot.js';
import { planHop } from './delay-buckets.js';
import { encodeMeta, type JobMeta, META_HEADER } from './envelope.js';
import type { ResolvedOptions } from './options.js';
import { priorityLevel } from './priority-map.js';
import type { Outgoing, Publisher } from './publisher.js';
import type { Topology } from './topology.js';

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
 * copies (at-least-once), never none.
 */
export class Settler {
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly publisher: Publisher,
    private readonly topology: Topology,
    private readonly options: ResolvedOptions,
    private readonly isClosed: () => boolean,
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

  /** Publish the new copy (confirmed), then ack the held original. Throws when the copy could not be stored. */
  async move(held: Held, meta: JobMeta, dest: Destination, doing: string): Promise<void> {
    await this.publisher.publish([this.outgoing(meta, held.msg.content, dest)], doing);
    if (held.slot.ack(held.msg)) held.onAcked();
  }

  /**
   * `move` in the background, retried while the original is still held: used where nobody
   * awaits the outcome (a lease that expired, a redelivery being counted, a delayed job on its
   * next hop). If the channel dies first the broker has the original back, and whoever gets it
   * next does the same work.
   */
  moveInBackground(held: Held, meta: JobMeta, dest: Destination, doing: string): void {
    const task = (async () => {
      for (let delay = 200; !held.slot.closed && !this.isClosed(); delay = Math.min(5000, delay * 2)) {
        try {
          await this.move(held, meta, dest, doing);
          return;
        } catch {
          await sleep(delay);
        }
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
