import {
  assertJobState,
  type Inspector,
  type JobRecord,
  type JobState,
  type StateCounts,
  UnsupportedFeatureError,
} from '@ilkkun/core';
import type { AmqpConnection } from './connection.js';
import { decodeMeta, type JobMeta } from './envelope.js';
import type { LeaseTable } from './lease-table.js';
import type { Outgoing, Publisher } from './publisher.js';
import type { Settler } from './settle.js';
import type { AmqpLease, Subscription } from './subscription.js';
import type { Topology } from './topology.js';

export interface InspectorHost {
  readonly conn: AmqpConnection;
  readonly topology: Topology;
  readonly settler: Settler;
  readonly publisher: Publisher;
  readonly leases: LeaseTable<AmqpLease>;
  subscriptions(): Iterable<Subscription>;
  assertOpen(): void;
  newId(): string;
}

/** Dead jobs are moved in chunks: bounded memory however long the dead queue is. */
const CHUNK = 500;

const NO_LIST =
  'listing waiting or active jobs would consume them (AMQP 0-9-1 cannot peek); use the management plugin, or counts()';

/**
 * Inspection over plain AMQP 0-9-1. The broker answers "how many ready messages" (passive
 * declare) and lets a client take messages; it cannot show one without taking it. So:
 * - counts: waiting = ready in the work queue (+ delivered here, not yet handed out); delayed =
 *   ready in the wait queues; dead = ready in the dead queue; active = leases held by THIS
 *   backend instance (unacked counts of other processes are only in the management API);
 *   completed = 0 (ack deletes).
 * - retryDead / deleteJobs(dead, ids): take the dead queue's messages once round (a snapshot
 *   of its length), republish the ones that stay to its back in the same order, move or drop
 *   the chosen ones. Only this backend reads dead queues, so nobody else sees the rotation.
 * - purge: deletes the work, wait and dead queues (with every delivery of every process in
 *   them). Leases of this instance on it end with LEASE_LOST; another process's ack of a purged
 *   job does nothing (the job is gone either way).
 * - list / getJob: unsupported (see NO_LIST).
 * - queues(): the queues this instance used; AMQP cannot enumerate queues either.
 */
export class AmqpInspector implements Inspector {
  constructor(private readonly host: InspectorHost) {}

  async queues(): Promise<string[]> {
    this.host.assertOpen();
    return [...this.host.topology.known].sort();
  }

  async counts(queue: string): Promise<StateCounts> {
    this.host.assertOpen();
    const t = this.host.topology;
    const n = t.namesOf(queue);
    let buffered = 0;
    for (const sub of this.host.subscriptions()) buffered += sub.bufferedOf(queue);
    const waiting = ((await t.readyCount(n.work)) ?? 0) + buffered;
    const delayed = (await t.waitCounts(queue)).reduce((sum, w) => sum + w.count, 0);
    const dead = (await t.readyCount(n.dead)) ?? 0;
    const active = this.host.leases.countWhere((l) => l.queue === queue);
    return { waiting, delayed, active, completed: 0, dead };
  }

  async list(queue: string, state: JobState): Promise<JobRecord[]> {
    this.host.assertOpen();
    this.host.topology.namesOf(queue);
    assertJobState(state);
    throw new UnsupportedFeatureError('list', 'amqp', NO_LIST);
  }

  async getJob(queue: string): Promise<JobRecord | undefined> {
    this.host.assertOpen();
    this.host.topology.namesOf(queue);
    throw new UnsupportedFeatureError('getJob', 'amqp', NO_LIST);
  }

  async retryDead(queue: string, ids?: readonly string[]): Promise<number> {
    this.host.assertOpen();
    const wanted = ids ? new Set(ids) : undefined;
    return this.rotateDead(queue, (meta) => (!wanted || wanted.has(meta.id) ? 'retry' : 'keep'));
  }

  async deleteJobs(
    queue: string,
    state: Exclude<JobState, 'active'>,
    ids?: readonly string[],
  ): Promise<number> {
    this.host.assertOpen();
    assertJobState(state, false);
    const t = this.host.topology;
    const n = t.namesOf(queue);
    if (state === 'completed') return 0;
    if (state === 'dead') {
      if (!ids) return t.purge(n.dead);
      const wanted = new Set(ids);
      return this.rotateDead(queue, (meta) => (wanted.has(meta.id) ? 'drop' : 'keep'));
    }
    if (ids) {
      throw new UnsupportedFeatureError(
        `deleteJobs("${state}", ids)`,
        'amqp',
        'picking single jobs out of a live queue would take them from the workers; delete all of that state, or let them run',
      );
    }
    if (state === 'waiting') {
      let dropped = 0;
      for (const sub of this.host.subscriptions()) dropped += sub.dropQueue(queue);
      return dropped + (await t.purge(n.work));
    }
    let purged = 0;
    for (const w of await t.waitCounts(queue)) purged += await t.purge(w.name);
    return purged;
  }

  async purge(queue: string): Promise<number> {
    this.host.assertOpen();
    const t = this.host.topology;
    const n = t.namesOf(queue);
    let local = 0;
    for (const lease of this.host.leases.removeWhere((l) => l.queue === queue)) {
      lease.sub.leaseEnded();
      if (lease.held.slot.ack(lease.held.msg)) lease.held.onAcked();
      local++;
    }
    for (const sub of this.host.subscriptions()) local += sub.dropQueue(queue);
    // Deleting (not purging) the work queue is what removes the deliveries other processes
    // hold too. Everything goes, so nothing is left behind on the broker; whoever pushes or
    // consumes next declares the queues again (a push to a vanished queue comes back as
    // unroutable and is re-sent, never lost).
    let purged = await t.delete(n.work);
    for (const w of await t.waitCounts(queue)) purged += await t.delete(w.name);
    purged += await t.delete(n.dead);
    return purged + local;
  }

  /** Take each dead job once (a snapshot of the queue's length) and retry, drop or keep it, in order. */
  private async rotateDead(
    queue: string,
    decide: (meta: JobMeta) => 'retry' | 'drop' | 'keep',
  ): Promise<number> {
    const t = this.host.topology;
    const n = t.namesOf(queue);
    const total = (await t.readyCount(n.dead)) ?? 0;
    if (total === 0) return 0;
    // Its own channel: if anything fails, closing it returns every message taken to the dead queue.
    const ch = await this.host.conn.channel();
    let affected = 0;
    try {
      let taken = 0;
      while (taken < total) {
        const outs: Outgoing[] = [];
        let last: Awaited<ReturnType<typeof ch.get>> = false;
        let inChunk = 0;
        while (inChunk < CHUNK && taken < total) {
          const msg = await ch.get(n.dead, { noAck: false });
          if (!msg) {
            taken = total;
            break;
          }
          taken++;
          inChunk++;
          last = msg;
          const meta = decodeMeta(msg, queue, this.host.newId);
          const choice = decide(meta);
          if (choice === 'retry') {
            affected++;
            // attempts start over; lastError stays so the history is still visible
            outs.push(
              this.host.settler.outgoing({ ...meta, attempts: 0, runAt: Date.now() }, msg.content, 'ready'),
            );
          } else if (choice === 'drop') {
            affected++;
          } else {
            outs.push(this.host.settler.outgoing(meta, msg.content, 'dead'));
          }
        }
        await this.host.publisher.publish(outs, 'moving dead jobs');
        if (last) ch.ack(last, true);
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
    return affected;
  }
}
