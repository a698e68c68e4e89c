import { ackMany } from './ack-many.js';
import type { Backend } from './backend.js';
import type { LeaseLostError } from './errors.js';
import type { LeaseHandle } from './job.js';

/** Told once how an ack ended: no argument when acked, else `LeaseLostError` or the store's error. */
export type AckCallback = (err?: unknown) => void;

interface PendingAck {
  handle: LeaseHandle;
  done: AckCallback;
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
      this.add(handle, (err) => (err === undefined ? resolve() : reject(err)));
    });
  }

  /**
   * `ack` without a promise per job: `done` is called once with the outcome. A worker pool acking
   * tens of thousands of jobs a second saves the promise, its closures and a microtask per job.
   */
  add(handle: LeaseHandle, done: AckCallback): void {
    if (!this.backend.ackMany) {
      this.backend.ack(handle).then(() => done(), done);
      return;
    }
    this.pending.push({ handle, done });
    this.draining ??= this.drain();
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
      const batch =
        this.pending.length <= this.maxBatch ? this.pending : this.pending.slice(0, this.maxBatch);
      this.pending = batch === this.pending ? [] : this.pending.slice(this.maxBatch);
      const handles: LeaseHandle[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) handles[i] = batch[i]!.handle;
      let outcome: Array<LeaseLostError | null>;
      try {
        outcome = await ackMany(this.backend, handles);
      } catch (err) {
        for (const p of batch) settle(p.done, err);
        continue;
      }
      for (let i = 0; i < batch.length; i++) {
        const lost = outcome[i];
        settle(batch[i]!.done, lost ?? undefined);
      }
    }
    this.draining = undefined;
  }
}

/** A callback that throws must not stall the batches behind it: its error surfaces on its own. */
function settle(done: AckCallback, err: unknown): void {
  try {
    done(err);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}
