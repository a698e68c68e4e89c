/**
 * Micro-batching: calls made in the same tick for the same SQS queue go out as one batch request
 * (SQS takes up to 10 entries per DeleteMessageBatch / SendMessageBatch). The runner acks each job
 * on its own; this turns 64 concurrent acks into 7 requests instead of 64.
 */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<T, R> {
  /** send one batch (≤ maxItems items, ≤ maxBytes); one outcome per item, in order */
  flush(key: string, items: T[]): Promise<Array<ItemOutcome<R>>>;
  maxItems: number;
  /** byte ceiling of one batch request (SendMessageBatch counts the sum of its messages) */
  maxBytes?: number;
  sizeOf?: (item: T) => number;
  /**
   * How long a part batch may wait for more items (default 0: until the end of the current
   * event-loop turn). Full batches go at once either way. A request costs the same whether it
   * carries 1 entry or 10, so where items come a few at a time (a pool of 16 acks 10 + 6 per
   * cycle) a short wait turns the part batches into full ones.
   */
  lingerMs?: number;
}

interface Pending<T, R> {
  item: T;
  size: number;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export class MicroBatcher<T, R> {
  private readonly pending = new Map<string, Array<Pending<T, R>>>();
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BatcherOptions<T, R>) {}

  /** Items added but not yet sent (waiting for their batch to fill or for the linger to end). */
  get queued(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }

  add(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const size = this.options.sizeOf?.(item) ?? 0;
      let list = this.pending.get(key);
      if (!list) {
        list = [];
        this.pending.set(key, list);
      }
      list.push({ item, size, resolve, reject });
      const linger = this.options.lingerMs ?? 0;
      if (list.length >= this.options.maxItems) {
        if (linger > 0) this.flushFull(key, list);
        else this.flushKey(key);
      }
      if (this.pending.has(key) && !this.scheduled) {
        this.scheduled = true;
        const flushAll = () => {
          this.scheduled = false;
          for (const k of [...this.pending.keys()]) this.flushKey(k);
        };
        // setImmediate, not a microtask: lets every caller of this event-loop turn join the batch
        if (linger > 0) setTimeout(flushAll, linger);
        else setImmediate(flushAll);
      }
    });
  }

  /** Resolves when nothing is pending or in flight (for close()). */
  async drain(): Promise<void> {
    for (let i = 0; i < 1000 && (this.pending.size > 0 || this.inFlight.size > 0); i++) {
      for (const k of [...this.pending.keys()]) this.flushKey(k);
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private flushKey(key: string): void {
    const list = this.pending.get(key);
    if (!list || list.length === 0) return;
    this.pending.delete(key);
    for (const batch of this.split(list)) this.start(key, batch);
  }

  /** Send the full batches of `key` now; a part batch left over waits for the flush timer. */
  private flushFull(key: string, list: Array<Pending<T, R>>): void {
    const ready = list.splice(0, list.length - (list.length % this.options.maxItems));
    if (list.length === 0) this.pending.delete(key);
    for (const batch of this.split(ready)) this.start(key, batch);
  }

  private start(key: string, batch: Array<Pending<T, R>>): void {
    const run = this.send(key, batch);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private split(list: Array<Pending<T, R>>): Array<Array<Pending<T, R>>> {
    const maxBytes = this.options.maxBytes ?? Number.POSITIVE_INFINITY;
    const out: Array<Array<Pending<T, R>>> = [];
    let current: Array<Pending<T, R>> = [];
    let bytes = 0;
    for (const p of list) {
      if (current.length > 0 && (current.length >= this.options.maxItems || bytes + p.size > maxBytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(p);
      bytes += p.size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  private async send(key: string, batch: Array<Pending<T, R>>): Promise<void> {
    try {
      const outcomes = await this.options.flush(
        key,
        batch.map((p) => p.item),
      );
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (!outcome) p.reject(new Error('batch reply is missing an entry'));
        else if (outcome.ok) p.resolve(outcome.value);
        else p.reject(outcome.error);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
