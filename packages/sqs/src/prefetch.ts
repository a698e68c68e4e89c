import type { LeasedJobRecord } from '@ilkkun/core';

/**
 * Receive-ahead. SQS hands out up to 10 messages per request for the price of one, but a worker
 * pool asks for as many jobs as it has free slots — often 1 or 2 as slots free one by one. Each
 * receive therefore asks for 10, and what the pop did not want waits here, already leased, for the
 * next pop of the same SQS queue (the raw-loop and sqs-consumer pattern, without their
 * over-leasing: a job not handed out within `holdMs` is handed back at once, attempt not counted).
 *
 * Only used when the lease is long against `holdMs` (see `SqsBackend`), so a job handed out from
 * here still has nearly all of its lease; its `lease.expiresAt` is the true (conservative) one.
 * While held, a message counts as `active` in SQS's numbers and other processes cannot receive it.
 */
export interface Held {
  record: LeasedJobRecord;
  heldAt: number;
}

export class PrefetchBuffer {
  private readonly lists = new Map<string, Held[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly holdMs: number,
    /** orders what a pop takes first (pop order) */
    private readonly compare: (a: LeasedJobRecord, b: LeasedJobRecord) => number,
    /** held too long: hand back */
    private readonly onExpired: (records: LeasedJobRecord[]) => void,
  ) {}

  get size(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.length;
    return n;
  }

  sizeOf(key: string): number {
    return this.lists.get(key)?.length ?? 0;
  }

  add(key: string, records: LeasedJobRecord[], now = Date.now()): void {
    if (records.length === 0) return;
    const list = this.lists.get(key) ?? [];
    list.push(...records.map((record) => ({ record, heldAt: now })));
    list.sort((a, b) => this.compare(a.record, b.record));
    this.lists.set(key, list);
    this.timer ??= setInterval(() => this.expire(Date.now()), Math.max(50, this.holdMs / 2)).unref();
  }

  take(key: string, n: number, now = Date.now()): LeasedJobRecord[] {
    this.expire(now);
    const list = this.lists.get(key);
    if (!list || n <= 0) return [];
    const out = list.splice(0, n).map((h) => h.record);
    if (list.length === 0) this.lists.delete(key);
    this.stopIfEmpty();
    return out;
  }

  /** Everything held for one ilkkun queue (a purge) or for all (close). */
  removeWhere(match: (record: LeasedJobRecord) => boolean): LeasedJobRecord[] {
    const out: LeasedJobRecord[] = [];
    for (const [key, list] of this.lists) {
      const keep = list.filter((h) => !match(h.record));
      out.push(...list.filter((h) => match(h.record)).map((h) => h.record));
      if (keep.length === 0) this.lists.delete(key);
      else this.lists.set(key, keep);
    }
    this.stopIfEmpty();
    return out;
  }

  private expire(now: number): void {
    const expired: LeasedJobRecord[] = [];
    for (const [key, list] of this.lists) {
      const keep = list.filter((h) => now - h.heldAt < this.holdMs);
      if (keep.length === list.length) continue;
      expired.push(...list.filter((h) => now - h.heldAt >= this.holdMs).map((h) => h.record));
      if (keep.length === 0) this.lists.delete(key);
      else this.lists.set(key, keep);
    }
    this.stopIfEmpty();
    if (expired.length > 0) this.onExpired(expired);
  }

  private stopIfEmpty(): void {
    if (this.lists.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
