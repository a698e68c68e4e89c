import { ackMany } from './ack-many.js';
import type { Backend } from './backend.js';
import type { LeaseLostError } from './errors.js';
import type { LeaseHandle } from './job.js';

interface PendingAck {
  handle: LeaseHandle;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Turns single acks into batched `ackMany` calls without adding latency when idle: the first
 * ack goes out at once (with any issued in the same synchronous run), and acks that arrive while
 * a batch is in flight ride together in the next one. A pool finishing jobs at concurrency 64
 * thus pays one round trip (one script call, one commit) for many acks. Backends without
 * `ackMany` get concurrent single acks, exactly as before.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly maxBatch = 500,
  ) {}

  /** Resolves when the job is acked; rejects with `LeaseLostError` (or the store's error) otherwise. */
  ack(handle: LeaseHandle): Promise<void> {
    if (!this.backend.ackMany) return this.backend.ack(handle);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ handle, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves once every ack handed in so far has its answer. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // a microtask, not a turn of the event loop: acks issued in the same synchronous run join
    // the first batch, but a lone ack does not wait
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let outcome: Array<LeaseLostError | null>;
      try {
        outcome = await ackMany(
          this.backend,
          batch.map((p) => p.handle),
        );
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      batch.forEach((p, i) => {
        const lost = outcome[i];
        if (lost) p.reject(lost);
        else p.resolve();
      });
    }
    this.draining = undefined;
  }
}
