import {
  type Backend,
  Client,
  hasErrorCode,
  LEASE_EXPIRED_MESSAGE,
  type LeasedJobRecord,
} from '@ilkkun/core';
import { afterAll, describe, expect, test } from 'vitest';
import { createBackend, type SqsBackend } from '../src/index.js';
import { deletePrefix, eventually, SQS_URL, testPrefix, withParams } from './helpers.js';

/**
 * Issue 13 item 5: a worker that stalls (SIGSTOP, a long GC pause, a blocked event loop) between
 * the lease check of its ack and the moment the batched DeleteMessageBatch goes out must not have
 * the stale ack reported as success. SQS answers a delete with a stale receipt handle with
 * success whether or not it deleted anything, so the backend judges the lease again when the batch
 * is sent. The stall is a synchronous busy-wait: nothing else in this process (timers, the batch
 * flush) can run during it, exactly like a stopped process, and it ends on the lease's own
 * deadline, not after a guessed sleep.
 */
const prefix = testPrefix('stall');
const url = withParams(SQS_URL, { prefix, prefetchMs: 0 });
const opened: Backend[] = [];
let seq = 0;
const queue = (label: string) => `stall.${label}.${process.pid}.${++seq}`;

async function open(): Promise<SqsBackend> {
  const backend = (await createBackend(url)) as SqsBackend;
  opened.push(backend);
  return backend;
}

afterAll(async () => {
  for (const b of opened) await b.close().catch(() => undefined);
  await deletePrefix(prefix);
}, 60_000);

/** Stall this whole process (no timer, no I/O callback runs) until the clock reaches `until`. */
function stallUntil(until: number): void {
  while (Date.now() < until) {
    // busy: a stopped worker does nothing either
  }
}

/** The local lease entry of a popped job (its timing is what the backend fences on). */
function leaseOf(backend: SqsBackend, job: LeasedJobRecord) {
  const entry = backend.leases.get(job.lease.token);
  if (!entry) throw new Error(`no lease entry for job ${job.id}`);
  return entry;
}

/** Let pending promise callbacks run (the ack's claim → batcher hand-off) without letting any timer fire. */
async function runMicrotasks(until: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !until(); i++) await Promise.resolve();
}

async function popOne(backend: Backend, q: string, leaseMs: number): Promise<LeasedJobRecord> {
  const [job] = await backend.pop([q], { max: 1, leaseMs, waitMs: 5000 });
  if (!job) throw new Error(`nothing to pop from ${q}`);
  return job;
}

describe('an ack whose lease runs out before its batch is sent', () => {
  test('stalled between the lease check and the send, past the deadline: LEASE_LOST, and the job comes back', async () => {
    const worker = await open();
    const q = queue('past');
    const { id } = await new Client(worker).add(q, 'once');
    const job = await popOne(worker, q, 3000);
    const lease = leaseOf(worker, job);
    const acked = worker.ack(job).then(
      () => 'acked',
      (err: unknown) => err,
    );
    // the ack's lease check has run (synchronously, inside ack()); now the process stops until
    // SQS's visibility timer has certainly run out
    stallUntil(lease.recvAt + lease.visibilitySeconds * 1000 + 50);
    const outcome = await acked;
    expect(hasErrorCode(outcome, 'LEASE_LOST')).toBe(true);

    // nothing was deleted: the job is received again, as attempt 2 after an expired lease
    const other = await open();
    const again = await eventually(
      async () => (await other.pop([q], { max: 1, leaseMs: 60_000 }))[0],
      15_000,
    );
    expect(again?.id).toBe(id);
    expect(again?.attemptsMade).toBe(2);
    expect(again?.lastError?.message).toBe(LEASE_EXPIRED_MESSAGE);
    await other.ack(again!);
  });

  test('queued in the delete batch while the lease enters its last guard interval: only that ack is refused', async () => {
    const worker = await open();
    const q = queue('batch');
    const client = new Client(worker);
    const { id: longId } = await client.add(q, 'long lease');
    const { id: shortId } = await client.add(q, 'short lease');
    const long = await popOne(worker, q, 60_000);
    const short = await popOne(worker, q, 3000);
    expect([long.id, short.id]).toEqual([longId, shortId]);
    const shortLease = leaseOf(worker, short);

    const outcomes = Promise.all(
      [long, short].map((job) =>
        worker.ack(job).then(
          () => 'acked',
          (err: unknown) => err,
        ),
      ),
    );
    // both acks passed their check and wait in one DeleteMessageBatch (the 15 ms linger has not
    // ended: no timer can fire while only promise callbacks run)
    await runMicrotasks(() => worker.deletesWaiting === 2);
    expect(worker.deletesWaiting).toBe(2);
    // stall until the short lease has less than the guard (leaseGuardMs, 1 s) left: SQS would
    // still accept and perform that delete, but it could arrive after the visibility timeout
    stallUntil(shortLease.sentAt + shortLease.visibilitySeconds * 1000 - worker.options.leaseGuardMs + 10);
    const [longOutcome, shortOutcome] = await outcomes;
    expect(longOutcome).toBe('acked');
    expect(hasErrorCode(shortOutcome, 'LEASE_LOST')).toBe(true);

    // the refused ack deleted nothing: the short-lease job comes back after its lease, the other never
    const other = await open();
    const again = await eventually(
      async () => (await other.pop([q], { max: 10, leaseMs: 60_000 }))[0],
      15_000,
    );
    expect(again?.id).toBe(shortId);
    expect(again?.attemptsMade).toBe(2);
    await other.ack(again!);
    expect(await other.pop([q], { max: 10, leaseMs: 60_000, waitMs: 0 })).toEqual([]);
  });
});
