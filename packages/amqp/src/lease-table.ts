import { type LeaseHandle, LeaseLostError } from '@ilkkun/core';

/** Something that holds a lease's delivery: it can ack the delivery on the channel it came from. */
export interface LeaseEntry {
  token: string;
  jobId: string;
  queue: string;
  expiresAt: number;
  /**
   * An ack or requeue of it is under way (`claim`ed): it stays in the table so `extend` still
   * works — the runner keeps renewing a lease until the broker confirms — but its deadline no
   * longer gives the job back, and nobody else can settle it.
   */
  settling?: boolean;
}

interface HeapItem {
  at: number;
  token: string;
}

/**
 * Time-based leases for deliveries the broker already considers taken. AMQP has no lease
 * deadline: a delivery stays with its channel until acked or until the channel dies. So this
 * process keeps the deadline itself: one timer for all leases (armed for the earliest, on a
 * min-heap with lazy deletion, so `extend` is O(log n) and a heartbeat never scans the table),
 * and when a deadline passes, `onExpire` gives the job back with the attempt counted.
 *
 * Every lease has a fresh token. ack/requeue/extend with a token that is unknown, belongs to
 * another job, or whose deadline has passed get `LeaseLostError` and change nothing.
 *
 * Settling is two steps, because the broker confirms an ack only later (see `ChannelSlot`):
 * `claim` marks the lease as being settled, `release` removes it once the outcome is known, and
 * `unclaim` puts it back to run its course when the settlement failed before anything was sent.
 */
export class LeaseTable<L extends LeaseEntry> {
  private readonly leases = new Map<string, L>();
  private heap: HeapItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(private readonly onExpire: (lease: L) => void) {}

  get size(): number {
    return this.leases.size;
  }

  add(lease: L): void {
    this.leases.set(lease.token, lease);
    this.schedule(lease.token, lease.expiresAt);
  }

  /**
   * The live lease `handle` holds, marked as being settled (left in the table until `release`),
   * or LEASE_LOST — also when another ack or requeue of it is already under way.
   */
  claim(handle: LeaseHandle): L {
    const lease = this.peek(handle);
    if (lease.settling) {
      throw new LeaseLostError(handle.id, 'an ack or requeue of this lease is already under way');
    }
    lease.settling = true;
    return lease;
  }

  /** The settlement of a claimed lease is over (whatever its outcome): forget the lease. */
  release(lease: L): void {
    if (this.leases.get(lease.token) === lease) this.leases.delete(lease.token);
  }

  /**
   * The live lease `handle` holds, left in place, or LEASE_LOST. An overdue lease is expired on
   * the spot — unless it is being settled: its ack is already on its way, the deadline no
   * longer matters, and renewing it (the runner does until the broker confirms) must work.
   */
  peek(handle: LeaseHandle): L {
    const lease = this.leases.get(handle.lease.token);
    if (!lease || lease.jobId !== handle.id || lease.queue !== handle.queue)
      throw new LeaseLostError(handle.id);
    if (lease.expiresAt <= Date.now() && !lease.settling) {
      // the timer has not fired yet (a busy event loop): the deadline is what counts
      this.expire(lease);
      throw new LeaseLostError(handle.id, 'the lease expired');
    }
    return lease;
  }

  /**
   * A claimed lease whose settlement failed before the broker got anything (the copy of a
   * requeue could not be stored): it runs its course again, expiring as usual.
   */
  unclaim(lease: L): void {
    lease.settling = false;
    if (this.stopped || this.leases.get(lease.token) !== lease) return;
    this.schedule(lease.token, lease.expiresAt);
  }

  extend(lease: L, leaseMs: number): number {
    lease.expiresAt = Date.now() + leaseMs;
    this.schedule(lease.token, lease.expiresAt);
    return lease.expiresAt;
  }

  /**
   * Remove and return every lease matching `pred` (a channel died, a queue was purged). Leases
   * being settled are left to their settlement, which reports their outcome and releases them.
   */
  removeWhere(pred: (lease: L) => boolean): L[] {
    const out: L[] = [];
    for (const lease of this.leases.values()) if (!lease.settling && pred(lease)) out.push(lease);
    for (const lease of out) this.leases.delete(lease.token);
    return out;
  }

  countWhere(pred: (lease: L) => boolean): number {
    let n = 0;
    for (const lease of this.leases.values()) if (pred(lease)) n++;
    return n;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(lease: L): void {
    if (this.leases.get(lease.token) !== lease || lease.settling) return;
    this.leases.delete(lease.token);
    this.onExpire(lease);
  }

  private schedule(token: string, at: number): void {
    // Settled leases leave stale heap items behind (lazy deletion). Rebuild from the live leases
    // when they outnumber them, so memory follows the leases held, not the jobs done.
    if (this.heap.length > 2 * this.leases.size + 1024) {
      this.heap.length = 0;
      for (const lease of this.leases.values()) push(this.heap, { at: lease.expiresAt, token: lease.token });
      if (this.leases.get(token)?.expiresAt !== at) push(this.heap, { at, token });
    } else {
      push(this.heap, { at, token });
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    // drop heap tops that no longer match a live lease (settled, or extended to a later time)
    for (;;) {
      const top = this.heap[0];
      if (!top) return;
      const lease = this.leases.get(top.token);
      if (lease && lease.expiresAt === top.at) break;
      pop(this.heap);
    }
    const at = this.heap[0]!.at;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.tick(), Math.max(0, at - Date.now()));
    // a pending lease deadline alone must not keep a process alive that is otherwise done
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      pop(this.heap);
      const lease = this.leases.get(top.token);
      if (lease && lease.expiresAt === top.at) this.expire(lease);
    }
    this.arm();
  }
}

function push(heap: HeapItem[], item: HeapItem): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.at <= item.at) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = item;
}

function pop(heap: HeapItem[]): HeapItem | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (!last || heap.length === 0) return top;
  // sift `last` down from the root
  const n = heap.length;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    let mAt = last.at;
    if (l < n && heap[l]!.at < mAt) {
      m = l;
      mAt = heap[l]!.at;
    }
    if (r < n && heap[r]!.at < mAt) m = r;
    if (m === i) break;
    heap[i] = heap[m]!;
    i = m;
  }
  heap[i] = last;
  return top;
}
