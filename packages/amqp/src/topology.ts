import type { Channel } from 'amqplib';
import { classifyError, replyCode } from './classify-error.js';
import type { AmqpConnection } from './connection.js';
import { BUCKETS } from './delay-buckets.js';
import { type QueueNames, queueNames, waitQueueName } from './names.js';
import type { ResolvedOptions } from './options.js';

type QueueArgs = Record<string, string | number>;

/**
 * Declares the broker objects one ilkkun queue needs, idempotently and once per connection:
 * - `<prefix>/<q>`: the work queue, durable; classic with `x-max-priority`, or quorum with
 *   `x-delivery-limit`. Its dead-letter target is the dead queue, so whatever the broker itself
 *   rejects (a quorum delivery limit, an operator's reject, a length limit) is kept, not dropped.
 * - `<prefix>/<q>/dead`: dead jobs, kept for inspection and `retryDead`.
 * - `<prefix>/<q>/wait/<ms>`: one per delay bucket, created on first use; TTL = bucket, no
 *   consumers, dead-lettered back into the work queue.
 * Only the default exchange is used (routing key = queue name): nothing to bind, nothing to lose.
 */
export class Topology {
  private readonly names = new Map<string, QueueNames>();
  private declared = new Map<string, Promise<void>>();
  private gen = -1;
  private declareChannel: Promise<Channel> | undefined;
  private probeChannel: Promise<Channel> | undefined;
  /** ilkkun queue names this instance used (what `inspector.queues()` can know over AMQP) */
  readonly known = new Set<string>();
  /** every broker queue this instance declared (tests delete them afterwards) */
  readonly declaredNames = new Set<string>();

  constructor(
    private readonly conn: AmqpConnection,
    private readonly options: ResolvedOptions,
  ) {}

  namesOf(queue: string): QueueNames {
    let n = this.names.get(queue);
    if (!n) {
      n = queueNames(this.options.prefix, queue);
      this.names.set(queue, n);
    }
    return n;
  }

  /** A new connection knows nothing: forget cached declarations and channels. */
  private sync(): void {
    if (this.gen === this.conn.generation) return;
    this.gen = this.conn.generation;
    this.declared = new Map();
    this.declareChannel = undefined;
    this.probeChannel = undefined;
  }

  private channelFor(kind: 'declare' | 'probe'): Promise<Channel> {
    this.sync();
    const existing = kind === 'declare' ? this.declareChannel : this.probeChannel;
    if (existing) return existing;
    const created = this.conn.channel().then((ch) => {
      // a refused declare (406) or a missing queue (404) closes the channel: open a new one next time
      ch.on('close', () => {
        if (kind === 'declare' && this.declareChannel === created) this.declareChannel = undefined;
        if (kind === 'probe' && this.probeChannel === created) this.probeChannel = undefined;
      });
      return ch;
    });
    created.catch(() => {
      if (kind === 'declare' && this.declareChannel === created) this.declareChannel = undefined;
      if (kind === 'probe' && this.probeChannel === created) this.probeChannel = undefined;
    });
    if (kind === 'declare') this.declareChannel = created;
    else this.probeChannel = created;
    return created;
  }

  private dlxTo(target: string): QueueArgs {
    return { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target };
  }

  workArgs(n: QueueNames): QueueArgs {
    const args: QueueArgs = this.dlxTo(n.dead);
    if (this.options.queueType === 'quorum') {
      args['x-queue-type'] = 'quorum';
      if (this.options.deliveryLimit > 0) args['x-delivery-limit'] = this.options.deliveryLimit;
    } else if (this.options.maxPriority > 0) {
      args['x-max-priority'] = this.options.maxPriority;
    }
    return args;
  }

  deadArgs(): QueueArgs {
    return this.options.queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
  }

  waitArgs(n: QueueNames, bucketMs: number): QueueArgs {
    const args: QueueArgs = { 'x-message-ttl': bucketMs, ...this.dlxTo(n.work) };
    if (this.options.queueType === 'quorum') {
      args['x-queue-type'] = 'quorum';
      // Quorum dead-lettering is at-most-once by default; a delayed job must not vanish on the way back.
      args['x-dead-letter-strategy'] = 'at-least-once';
      args['x-overflow'] = 'reject-publish';
    }
    return args;
  }

  private declare(name: string, args: QueueArgs): Promise<void> {
    this.sync();
    let p = this.declared.get(name);
    if (!p) {
      p = (async () => {
        const ch = await this.channelFor('declare');
        try {
          await ch.assertQueue(name, { durable: true, arguments: args });
          this.declaredNames.add(name);
        } catch (err) {
          throw classifyError(err, this.conn.where, `declaring queue ${name}`);
        }
      })();
      const declaring = p;
      this.declared.set(name, declaring);
      declaring.catch(() => {
        if (this.declared.get(name) === declaring) this.declared.delete(name);
      });
    }
    return p;
  }

  /** The work and dead queues of `queue` exist (declared once per connection). */
  async ensureQueue(queue: string): Promise<QueueNames> {
    const n = this.namesOf(queue);
    this.known.add(queue);
    await Promise.all([this.declare(n.dead, this.deadArgs()), this.declare(n.work, this.workArgs(n))]);
    return n;
  }

  async ensureWait(queue: string, bucketMs: number): Promise<string> {
    const n = await this.ensureQueue(queue);
    const name = waitQueueName(n, bucketMs);
    await this.declare(name, this.waitArgs(n, bucketMs));
    return name;
  }

  /** A broker queue vanished (deleted by a purge elsewhere, or an operator): declare it again next time. */
  forget(name: string): void {
    this.declared.delete(name);
  }

  /**
   * Ready messages in a queue (passive declare), or undefined when it does not exist. A passive
   * declare of a missing queue closes its channel (404), so probes use a channel of their own.
   */
  async readyCount(name: string): Promise<number | undefined> {
    const ch = await this.channelFor('probe');
    try {
      return (await ch.checkQueue(name)).messageCount;
    } catch (err) {
      if (replyCode(err) === 404) return undefined;
      throw classifyError(err, this.conn.where, `checking queue ${name}`);
    }
  }

  /** Every wait queue of `queue` that exists, with its ready count. */
  async waitCounts(queue: string): Promise<Array<{ name: string; count: number }>> {
    const n = this.namesOf(queue);
    const out: Array<{ name: string; count: number }> = [];
    for (const bucket of BUCKETS) {
      const name = waitQueueName(n, bucket);
      const count = await this.readyCount(name);
      if (count !== undefined) out.push({ name, count });
    }
    return out;
  }

  /** Purge the ready messages of an existing queue; 0 when it does not exist. */
  async purge(name: string): Promise<number> {
    if ((await this.readyCount(name)) === undefined) return 0;
    const ch = await this.channelFor('probe');
    try {
      return (await ch.purgeQueue(name)).messageCount;
    } catch (err) {
      if (replyCode(err) === 404) return 0;
      throw classifyError(err, this.conn.where, `purging queue ${name}`);
    }
  }

  /** Delete a queue with everything in it, unacked deliveries too; returns the ready messages it held. */
  async delete(name: string): Promise<number> {
    const ch = await this.channelFor('declare');
    this.forget(name);
    try {
      return (await ch.deleteQueue(name)).messageCount;
    } catch (err) {
      throw classifyError(err, this.conn.where, `deleting queue ${name}`);
    }
  }
}
