import { LeaseLostError } from '@ilkkun/core';
import type { StoredJob } from './attributes.js';

/**
 * Lease fencing on SQS.
 *
 * A lease is a receipt handle plus a visibility timeout. SQS itself is a weak judge of stale
 * handles: DeleteMessage with an old or unknown handle *succeeds* without deleting anything (AWS
 * and fauxqs alike), and AWS documents no guarantee that a handle from an earlier receive is
 * refused by ChangeMessageVisibility once the message was received again. So the judge is this
 * table, kept by the backend instance that popped the job, with timestamps bracketing each SQS call:
 *
 * - `sentAt` (before the request left) and `recvAt` (after the answer came) bracket the moment SQS
 *   started the visibility timer, so SQS's deadline lies in `[sentAt + vis, recvAt + vis]`.
 * - Before `sentAt + vis - guard` the lease is certainly still ours (the message is invisible, no
 *   one else can have received it): act at once (`fast`). `guard` covers the time our request needs
 *   to reach SQS.
 * - From `recvAt + vis` on, the lease has certainly run out: `lost`, without asking SQS — a stale
 *   holder never touches the message, even where SQS would accept its handle.
 * - In between, ask SQS (`verify`): ChangeMessageVisibility both checks the handle and extends the
 *   deadline; `MessageNotInflight` means lost.
 *
 * Tokens are random and known only to the instance that issued them: a token this table does not
 * hold (forged, already used, issued by another process) is `lost`.
 *
 * A decision is made when a call arrives, but batched requests go out later (see send-fence.ts):
 * `fenceAtSend` judges the lease again at that moment.
 */
export type FenceDecision = 'fast' | 'verify' | 'lost';

export interface LeaseTiming {
  sentAt: number;
  recvAt: number;
  visibilitySeconds: number;
}

export function decideFence(
  timing: LeaseTiming,
  now: number,
  needMs: number,
  guardMs: number,
): FenceDecision {
  const visMs = timing.visibilitySeconds * 1000;
  if (now >= timing.recvAt + visMs) return 'lost';
  if (now + needMs <= timing.sentAt + visMs - guardMs) return 'fast';
  return 'verify';
}

/** The conservative deadline callers are told: SQS's timer cannot run out before it. */
export function leaseDeadline(timing: LeaseTiming): number {
  return timing.sentAt + timing.visibilitySeconds * 1000;
}

/**
 * The check made when a request acting under `entry` actually goes out (send-fence.ts). It may go
 * only while the lease certainly still holds once the request has reached SQS: SQS's timer cannot
 * run out before `sentAt + visibility`, and `guardMs` (the `leaseGuardMs` option, 1 s by default)
 * is what the request may take from here to SQS — the SDK's signing and socket queue, the network,
 * SQS's own handling; in-region that is milliseconds, so 1 s also absorbs a short GC pause after
 * this check. `needMs` is time that must be left after that (a requeue's re-send leaves room for
 * the delete that follows). Closer than that is refused: a false LEASE_LOST only makes the job run
 * again after its lease (at least once, as promised), a false success would report a completion
 * SQS may never have made. Reads the entry when called, so an extend in between counts.
 */
export function fenceAtSend(
  entry: LeaseEntry,
  guardMs: number,
  needMs = 0,
): (now: number) => LeaseLostError | undefined {
  return (now) =>
    decideFence(entry, now, needMs, guardMs) === 'fast'
      ? undefined
      : new LeaseLostError(
          entry.job.id,
          `the lease ran out, or had less than ${guardMs + needMs} ms left, when the request was about ` +
            'to be sent (the process stalled after the call: a pause, a long GC, a blocked event loop); ' +
            'nothing was sent, the job stays in SQS and runs again after its visibility timeout — ' +
            'if this repeats, find what blocks the process or use a longer lease',
        );
}

export interface LeaseEntry extends LeaseTiming {
  token: string;
  /** SQS queue URL the message lives in */
  url: string;
  receiptHandle: string;
  /** the job as received (what a re-send copies) */
  job: StoredJob;
  /** attempts including this one */
  attemptsMade: number;
  /** purge epoch of the queue when popped: a purge in this process ends every older lease */
  epoch: number;
  /** set while an ack/requeue is under way, so a second call with the same token is refused */
  busy: boolean;
}

export class LeaseTable {
  private readonly entries = new Map<string, LeaseEntry>();
  private readonly epochs = new Map<string, number>();
  private lastSweep = 0;

  get size(): number {
    return this.entries.size;
  }

  add(entry: LeaseEntry): void {
    this.entries.set(entry.token, entry);
  }

  get(token: string): LeaseEntry | undefined {
    return this.entries.get(token);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  epochOf(queue: string): number {
    return this.epochs.get(queue) ?? 0;
  }

  /** A purge deleted every message of the queue: leases on it can no longer be acted on. */
  bumpEpoch(queue: string): void {
    this.epochs.set(queue, this.epochOf(queue) + 1);
  }

  /** Drop leases that ran out long ago (their holder crashed or forgot them). Cheap to call often. */
  sweep(now: number, everyMs = 10_000): void {
    if (now - this.lastSweep < everyMs) return;
    this.lastSweep = now;
    for (const [token, entry] of this.entries) {
      if (!entry.busy && now >= entry.recvAt + entry.visibilitySeconds * 1000 + 60_000)
        this.entries.delete(token);
    }
  }

  all(): LeaseEntry[] {
    return [...this.entries.values()];
  }
}
