import { leaseExpiredError } from '@ilkkun/core';
import type { JobMeta } from './envelope.js';
import type { Destination } from './settle.js';

/** What to do with a delivery before anyone may have it. */
export type Triage = { kind: 'hand-out' } | { kind: 'move'; meta: JobMeta; dest: Destination; doing: string };

/**
 * - `runAt` still ahead: one hop of a longer delay ended (see delay-buckets). It was never handed
 *   out, so it goes on its next hop with nothing counted — even if it was also redelivered.
 * - delivered before without being settled (`unsettled` > 0: its holder died, lost its
 *   connection, or the broker's consumer_timeout fired): that holder's attempt is counted now,
 *   with "lease expired" recorded, by publishing a fresh copy — or the job goes to dead when its
 *   attempts are used up, so a job that kills every worker that takes it cannot loop.
 * - otherwise it may be handed out (the pop then counts its attempt).
 */
export function triage(meta: JobMeta, unsettled: number, now: number): Triage {
  if (meta.runAt > now) return { kind: 'move', meta, dest: 'ready', doing: 'delaying a job' };
  if (unsettled > 0) {
    const attempts = meta.attempts + unsettled;
    return {
      kind: 'move',
      meta: { ...meta, attempts, runAt: now, lastError: leaseExpiredError(attempts, now) },
      dest: attempts >= meta.maxAttempts ? 'dead' : 'ready',
      doing: 'counting the attempt of a redelivered job',
    };
  }
  return { kind: 'hand-out' };
}
