import type { Backend, LeaseHandle } from '@ilkkun/core';
import { hasErrorCode, LeaseLostError, UnsupportedFeatureError } from '@ilkkun/core';

/** Who is told, at most once, that a tracked lease is gone. */
export interface LeaseWatcher {
  leaseLost(err: LeaseLostError): void;
}

interface Entry {
  handle: LeaseHandle;
  leaseMs: number;
  /** when the next heartbeat is due (ms epoch) */
  nextAt: number;
  busy: boolean;
  watcher: LeaseWatcher;
}

/**
 * Keeps the leases of running jobs alive, like BullMQ's LockManager: one timer for the whole
 * pool (not one per job), armed for the earliest due heartbeat. A lease is renewed when half of
 * it has run out, so one missed heartbeat (a slow store, a GC pause) still leaves half a lease.
 *
 * It lives in the runner's process also in `process` mode: a CPU-bound child that never yields
 * cannot starve its own heartbeat. A lease is renewed until the store has the job's fate — the
 * ack path (or the requeue) untracks it only when the store answered, so an ack that waits on a
 * lock, a reconnect or a batch ahead of it never lets the lease lapse.
 */
export class LeaseKeeper {
  /**
   * Keyed by the handle object itself, not its token: some stores give every job of one pop the
   * same token (MySQL fences by job id + token), and one entry per token would renew only one of them.
   */
  private readonly entries = new Map<LeaseHandle, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  /** false for a backend without `extend`: leases then simply run their course */
  private readonly heartbeats: boolean;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: Error, jobId: string) => void,
  ) {
    this.heartbeats = backend.capabilities.extend;
  }

  /** Start heartbeating a freshly popped job; `watcher.leaseLost` runs at most once if the lease is gone. */
  track(handle: LeaseHandle, leaseMs: number, expiresAt: Date, watcher: LeaseWatcher): void {
    if (!this.heartbeats) return;
    leaseMs = leaseLength(leaseMs, this.backend);
    const nextAt = Math.min(expiresAt.getTime() - leaseMs / 2, Date.now() + leaseMs / 2);
    this.entries.set(handle, { handle, leaseMs, nextAt, busy: false, watcher });
    // the common case — a timer already armed for an earlier heartbeat — costs no scan
    if (this.timer && nextAt >= this.timerAt) return;
    this.arm();
  }

  /** Stop renewing: the store has the job's fate (acked, requeued) or the lease is gone. */
  untrack(handle: LeaseHandle): void {
    this.entries.delete(handle);
  }

  /** `ctx.extend(ms)`: extend now, and keep the lease `ms` long from here on. */
  async extendNow(handle: LeaseHandle, ms: number): Promise<Date> {
    if (!this.heartbeats) throw new UnsupportedFeatureError('extend (lease heartbeat)', this.backend.name);
    ms = leaseLength(ms, this.backend);
    const entry = this.entries.get(handle);
    if (!entry) throw new LeaseLostError(handle.id, 'the job is no longer running here');
    const deadline = await this.backend.extend(handle, ms);
    entry.leaseMs = ms;
    entry.nextAt = Date.now() + ms / 2;
    this.arm();
    return deadline;
  }

  get size(): number {
    return this.entries.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.clear();
  }

  private arm(): void {
    if (this.stopped) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const e of this.entries.values()) if (!e.busy && e.nextAt < earliest) earliest = e.nextAt;
    if (earliest === Number.POSITIVE_INFINITY) return;
    if (this.timer && earliest >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = earliest;
    this.timer = setTimeout(() => this.tick(), Math.max(0, earliest - Date.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const [handle, entry] of this.entries) {
      // Batch heartbeats that are nearly due, so a busy pool wakes up less often.
      if (entry.busy || entry.nextAt > now + entry.leaseMs / 8) continue;
      entry.busy = true;
      // The new deadline counts from when the store ran the extend, which is no earlier than
      // now: the next heartbeat is due half a lease from *here*, not from the answer, so a slow
      // round trip does not eat into the margin a short lease has against a late timer.
      const sentAt = Date.now();
      this.backend.extend(entry.handle, entry.leaseMs).then(
        () => {
          entry.busy = false;
          entry.nextAt = sentAt + entry.leaseMs / 2;
          this.arm();
        },
        (err: unknown) => {
          entry.busy = false;
          // The job may have finished (acked) while the heartbeat was in flight: not a loss.
          if (this.entries.get(handle) !== entry) return;
          if (hasErrorCode(err, 'LEASE_LOST')) {
            this.entries.delete(handle);
            entry.watcher.leaseLost(
              err instanceof LeaseLostError ? err : new LeaseLostError(entry.handle.id),
            );
            return;
          }
          if (hasErrorCode(err, 'UNSUPPORTED_FEATURE')) {
            // the capability flag said otherwise; report once and let this lease run its course
            this.entries.delete(handle);
            this.onError(err instanceof Error ? err : new Error(String(err)), entry.handle.id);
            return;
          }
          // Transient (store unreachable): try again soon; if the lease really ran out, the next
          // heartbeat says so.
          this.onError(err instanceof Error ? err : new Error(String(err)), entry.handle.id);
          entry.nextAt = Date.now() + Math.min(1_000, entry.leaseMs / 10);
          this.arm();
        },
      );
    }
    this.arm();
  }
}

/** A lease length the backend can honour: rounded up to its granularity (SQS counts whole seconds). */
export function leaseLength(ms: number, backend: Backend): number {
  const step = Math.max(1, backend.capabilities.leaseGranularityMs);
  return Math.ceil(ms / step) * step;
}
