import { type Backend, decodeJob } from '@ilkkun/core';
import type { ChaosPayload } from './child/handler.js';

export interface StoreCounts {
  /** waiting + active + delayed */
  pending: number;
  dead: number;
}

/**
 * What the store still holds of the queue, or null when its inspector has no counts. (AMQP
 * counts only this process's own unacked deliveries as active; once the workers have stopped,
 * theirs are back in waiting.)
 */
export async function storeCounts(backend: Backend, queue: string): Promise<StoreCounts | null> {
  if (!backend.inspector || !backend.capabilities.inspect.counts) return null;
  const c = await backend.inspector.counts(queue);
  return { pending: c.waiting + c.active + c.delayed, dead: c.dead };
}

/**
 * Find which jobs are still in the store by taking them: pop until nothing comes back for one
 * lease (so leases of killed workers have expired), ack each one taken. Works on every backend
 * (AMQP and SQS cannot list). Returns the sequence numbers found.
 */
export async function sweepQueue(backend: Backend, queue: string, leaseMs: number, timeoutMs: number) {
  const found = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  let emptySince = Date.now();
  while (Date.now() < deadline && Date.now() - emptySince < leaseMs + 1000) {
    const jobs = await backend.pop([queue], {
      max: 100,
      leaseMs: 60_000,
      waitMs: Math.min(1000, Math.max(0, deadline - Date.now())),
    });
    if (jobs.length > 0) emptySince = Date.now();
    for (const record of jobs) {
      try {
        found.add(decodeJob<ChaosPayload>(record).payload.seq);
      } catch {
        // not a chaos job: the queue is ours alone, but never crash a report over it
      }
      await backend.ack(record).catch(() => undefined);
    }
  }
  return found;
}

/** Sequence numbers of the queue's dead jobs, where the inspector can list them (null otherwise). */
export async function deadSeqs(backend: Backend, queue: string): Promise<Set<number> | null> {
  if (!backend.inspector || !backend.capabilities.inspect.list) return null;
  const out = new Set<number>();
  for (let offset = 0; offset < 100_000; offset += 1000) {
    const page = await backend.inspector.list(queue, 'dead', { offset, limit: 1000 });
    for (const record of page) {
      try {
        out.add(decodeJob<ChaosPayload>(record).payload.seq);
      } catch {
        // see sweepQueue
      }
    }
    if (page.length < 1000) break;
  }
  return out;
}

/** Remove the queue and everything in it (purge where offered, else take and ack what is left). */
export async function cleanUp(backend: Backend, queue: string, leaseMs: number): Promise<void> {
  if (backend.inspector && backend.capabilities.inspect.purge) {
    await backend.inspector.purge(queue);
    return;
  }
  await sweepQueue(backend, queue, leaseMs, 5000);
}
