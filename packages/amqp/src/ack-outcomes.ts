import type { LeaseHandle, LeaseLostError } from '@ilkkun/core';
import { unconfirmedLeaseLost } from './unconfirmed.js';

/** Outcomes kept at most; the oldest go first (a caller re-sends at once, not hours later). */
const MAX_KEPT = 10_000;

/**
 * What became of the acks of a batch that failed as a whole because some of its acks were not
 * confirmed (their channel died). The caller sends the batch again; the acks the broker did
 * confirm — on another channel of the batch — must then answer "acked", not LEASE_LOST, so
 * completions are counted exactly; the unconfirmed ones answer LEASE_LOST saying why.
 * Filled only when a batch fails, so it is empty in normal operation.
 */
export class AckOutcomes {
  private readonly kept = new Map<string, { jobId: string; acked: boolean }>();

  remember(token: string, jobId: string, acked: boolean): void {
    this.kept.delete(token);
    this.kept.set(token, { jobId, acked });
    if (this.kept.size > MAX_KEPT) {
      const oldest = this.kept.keys().next();
      if (!oldest.done) this.kept.delete(oldest.value);
    }
  }

  /** The kept outcome for `handle` (given once): null = acked, a LeaseLostError, or undefined = nothing kept. */
  answer(handle: LeaseHandle): LeaseLostError | null | undefined {
    const kept = this.kept.get(handle.lease.token);
    if (!kept || kept.jobId !== handle.id) return undefined;
    this.kept.delete(handle.lease.token);
    return kept.acked ? null : unconfirmedLeaseLost(handle.id);
  }
}
