import type { LeaseHandle } from '@ilkkun/core';

/** Earlier calls remembered per handle (a few retries' worth). */
const MAX_REFS_PER_HANDLE = 4;
/** Handles with unanswered calls remembered at most (the oldest are forgotten first). */
const MAX_HANDLES = 10_000;

export type CallKind = 'ack' | 'requeue';

/**
 * Lease-ending calls (ack, ack-pop, requeue) whose answers may be lost.
 *
 * A connection cut after a script reached Redis but before its reply came back leaves the
 * client not knowing whether it ran. Two things then send it again: ioredis itself (it re-sends
 * unanswered commands after a reconnect, `autoResendUnfulfilledCommands`), and the caller (the
 * runner sends a failed ack again). Run again blindly, an ack that went through finds the job
 * gone and answers "lease lost" — wrong, and the runner counts a lost lease for a job that
 * completed. So:
 *
 * - every such call carries a number unique in this backend instance; the script keeps the
 *   answers of this instance's last 64 calls that changed something per queue (`calls` key), and a
 *   call whose number is there already answers as before without changing anything (the
 *   ioredis re-send is the very same command, number included);
 * - when a call fails without an answer, each of its handles remembers (call, position) here; a
 *   later call with the same handle names them, and the script counts the handle as ended if one
 *   of them ended it.
 *
 * A second ack of a handle that was answered is not a repeat: it finds the lease gone and is
 * LEASE_LOST, as on every backend.
 */
export class CallLedger {
  private next = 0;
  /** `kind \0 queue \0 id \0 token` → earlier calls: 'call.index,call.index' */
  private readonly unanswered = new Map<string, string>();

  /** A new call number (decimal, as the scripts compare it). */
  number(): string {
    return String(++this.next);
  }

  /** The earlier unanswered calls that carried `handle` ('' = none), for the script to consult. */
  earlier(kind: CallKind, handle: LeaseHandle): string {
    // the hot path: nothing went unanswered, no key to build
    if (this.unanswered.size === 0) return '';
    return this.unanswered.get(key(kind, handle)) ?? '';
  }

  /** Call `call` carrying `handles` failed without an answer: each may have been ended by it. */
  lost(kind: CallKind, handles: readonly LeaseHandle[], call: string): void {
    handles.forEach((handle, index) => {
      const k = key(kind, handle);
      const refs = [...(this.unanswered.get(k)?.split(',') ?? []), `${call}.${index}`];
      this.unanswered.delete(k); // re-inserted last: the Map's order is the forgetting order
      this.unanswered.set(k, refs.slice(-MAX_REFS_PER_HANDLE).join(','));
    });
    for (const oldest of this.unanswered.keys()) {
      if (this.unanswered.size <= MAX_HANDLES) break;
      this.unanswered.delete(oldest);
    }
  }

  /** The store answered for these handles: their earlier calls no longer matter. */
  answered(kind: CallKind, handles: readonly LeaseHandle[]): void {
    if (this.unanswered.size === 0) return;
    for (const handle of handles) this.unanswered.delete(key(kind, handle));
  }

  /** Track `run`, the call `call` carrying `handles`: remembered when it fails, forgotten when answered. */
  async track<T>(kind: CallKind, handles: readonly LeaseHandle[], call: string, run: Promise<T>): Promise<T> {
    try {
      const answer = await run;
      this.answered(kind, handles);
      return answer;
    } catch (err) {
      this.lost(kind, handles, call);
      throw err;
    }
  }
}

function key(kind: CallKind, handle: LeaseHandle): string {
  return `${kind}\u0000${handle.queue}\u0000${handle.id}\u0000${handle.lease.token}`;
}
