import {
  type Backend,
  type JobRecord,
  MemoryBackend,
  type NewJob,
  type PushResult,
  type RequeueOptions,
} from '@ilkkun/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { removeTempDirs, tempDbFile } from './helpers.js';

/**
 * Differential test against the reference implementation: the same script runs on
 * MemoryBackend and on a fresh SQLite file, and every observation must match. Both number jobs
 * 1, 2, 3… from a fresh store, so ids compare directly. Times that depend on the clock are
 * reduced to "past"/"future" so the two runs can be compared.
 */
afterAll(removeTempDirs);

const HOUR = 3_600_000;
const base = (queue: string, extra: Partial<NewJob> = {}): NewJob => ({
  queue,
  payload: JSON.stringify({ queue, priority: extra.priority ?? 0, key: extra.uniqueKey ?? null }),
  priority: 0,
  runAt: new Date(1_000),
  maxAttempts: 3,
  ...extra,
});

function view(job: JobRecord | undefined) {
  if (!job) return job;
  const now = Date.now();
  return {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    runAt: job.runAt.getTime() > now ? 'future' : 'past',
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    uniqueKey: job.uniqueKey,
    backoff: job.backoff,
    state: job.state,
    lastError: job.lastError && {
      message: job.lastError.message,
      name: job.lastError.name,
      attempt: job.lastError.attempt,
    },
  };
}

async function outcome<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

async function script(b: Backend): Promise<unknown[]> {
  const log: unknown[] = [];
  const note = (label: string, value: unknown) => log.push([label, value]);
  const inspector = b.inspector!;
  const pushed: PushResult[] = await b.push([
    base('p', { priority: 1 }),
    base('p', { priority: 5, runAt: new Date(2_000) }),
    base('p', { priority: 5, runAt: new Date(1_500) }),
    base('p', { priority: -3 }),
    base('p', { runAt: new Date(Date.now() + HOUR) }),
    base('p', { uniqueKey: 'k1', backoff: { type: 'exponential', delayMs: 10, jitter: 0 } }),
    base('p', { uniqueKey: 'k1' }),
    base('other', { uniqueKey: 'k1' }),
  ]);
  note('push', pushed);
  note('push again k1', await b.push([base('p', { uniqueKey: 'k1' })]));
  note('counts', await inspector.counts('p'));
  note('queues', await inspector.queues());
  note('list waiting', (await inspector.list('p', 'waiting')).map(view));
  note('list waiting page', (await inspector.list('p', 'waiting', { offset: 1, limit: 2 })).map(view));
  note('list delayed', (await inspector.list('p', 'delayed')).map(view));

  const popped = await b.pop(['p', 'other'], { max: 3, leaseMs: 60_000 });
  note('pop 3', popped.map(view));
  const [first, second, third] = popped;
  note('list active', (await inspector.list('p', 'active')).map(view));

  // fencing
  const stale = { id: first!.id, queue: 'p', lease: { token: 'not-the-token' } };
  note('ack stale', await outcome(() => b.ack(stale)));
  note('ack unknown id', await outcome(() => b.ack({ id: '999', queue: 'p', lease: { token: 'x' } })));
  note('ack odd id', await outcome(() => b.ack({ id: 'abc', queue: 'p', lease: { token: 'x' } })));
  note('extend', await outcome(async () => (await b.extend(first!, 120_000)).getTime() > Date.now()));
  note('ack', await outcome(() => b.ack(first!)));
  note('ack twice', await outcome(() => b.ack(first!)));
  note('extend after ack', await outcome(() => b.extend(first!, 1000)));
  note('requeue after ack', await outcome(() => b.requeue(first!)));

  // requeue variants
  const error = { message: 'boom', name: 'Error', stack: 'at x', attempt: 1, at: new Date(5_000) };
  const later: RequeueOptions = { runAt: new Date(Date.now() + HOUR), error };
  note('requeue later', await outcome(() => b.requeue(second!, later)));
  note('getJob requeued', view(await inspector.getJob('p', second!.id)));
  note('requeue dead', await outcome(() => b.requeue(third!, { dead: true, error })));
  note('getJob dead', view(await inspector.getJob('p', third!.id)));
  note('getJob wrong queue', view(await inspector.getJob('other', third!.id)));
  note('getJob odd id', view(await inspector.getJob('p', 'nope')));

  const [released] = await b.pop(['p'], { leaseMs: 60_000 });
  note('pop for release', view(released));
  note('requeue release', await outcome(() => b.requeue(released!, { release: true, dead: true, error })));
  note('getJob released', view(await inspector.getJob('p', released!.id)));

  // lease expiry: attempts left → back to waiting; attempts used up → dead
  const [shortLease] = await b.pop(['p'], { leaseMs: 1 });
  note('pop short lease', view(shortLease));
  await new Promise((r) => setTimeout(r, 10));
  note('ack expired', await outcome(() => b.ack(shortLease!)));
  note('extend expired', await outcome(() => b.extend(shortLease!, 1000)));
  note('counts after expiry', await inspector.counts('p'));
  note('getJob after expiry', view(await inspector.getJob('p', shortLease!.id)));

  const [once] = await b.push([base('expire', { maxAttempts: 1, uniqueKey: 'e' })]);
  await b.pop(['expire'], { leaseMs: 1 });
  await new Promise((r) => setTimeout(r, 10));
  note('pop after expiry, none left', (await b.pop(['expire'])).map(view));
  note('dead by expiry', view(await inspector.getJob('expire', once!.id)));
  note('key free after dead', await b.push([base('expire', { uniqueKey: 'e' })]));
  note('retryDead blocked by live key', await inspector.retryDead('expire'));
  note('list dead', (await inspector.list('expire', 'dead')).map(view));

  // retryDead with ids, deleteJobs, purge
  note('retryDead p', await inspector.retryDead('p', [third!.id, '12345', 'x']));
  note('getJob retried', view(await inspector.getJob('p', third!.id)));
  note('deleteJobs delayed', await inspector.deleteJobs('p', 'delayed'));
  note(
    'deleteJobs waiting by id',
    await inspector.deleteJobs('p', 'waiting', [pushed[3]!.id, pushed[3]!.id, 'zz']),
  );
  note('counts before purge', await inspector.counts('p'));
  note('purge', await inspector.purge('p'));
  note('purge empty', await inspector.purge('p'));
  note('queues at end', await inspector.queues());

  // priority across queues, empty queue list, max larger than available
  await b.push([base('qa', { priority: 1 }), base('qb', { priority: 2 }), base('qa', { priority: 2 })]);
  note('pop across queues', (await b.pop(['qa', 'qb', 'qa'], { max: 10 })).map(view));
  note('ackMany none', await b.ackMany!([]));
  await b.push([base('qa'), base('qa')]);
  const batch = await b.pop(['qa'], { max: 2, leaseMs: 60_000 });
  const forged = { id: batch[0]!.id, queue: 'qa', lease: { token: 'forged' } };
  const ackManyResult = await b.ackMany!([batch[0]!, forged, batch[1]!, batch[1]!, { ...forged, id: 'zz' }]);
  note(
    'ackMany',
    ackManyResult.map((r) => r && { code: r.code, jobId: r.jobId }),
  );
  note('counts after ackMany', await inspector.counts('qa'));
  note('pop no queues', await b.pop([]));
  note('pop max 0', await b.pop(['qa'], { max: 0 }).catch((e: { code?: string }) => e.code));
  return log;
}

describe('parity with MemoryBackend', () => {
  it('gives the same observations for the same script', async () => {
    const memory = new MemoryBackend();
    const sqlite = await createBackend(`sqlite:${tempDbFile()}`);
    try {
      const expected = await script(memory);
      const actual = await script(sqlite);
      for (let i = 0; i < expected.length; i++) expect(actual[i]).toEqual(expected[i]);
      expect(actual).toHaveLength(expected.length);
    } finally {
      await memory.close();
      await sqlite.close();
    }
  });
});
