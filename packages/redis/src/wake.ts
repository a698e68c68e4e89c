import type { Redis } from 'ioredis';

/** What ended a wait: a doorbell rang, the time ran out, the caller gave up, or the connection failed. */
export type WakeOutcome = 'marker' | 'timeout' | 'aborted' | 'error';

interface Blocker {
  conn: Redis;
  /** CLIENT ID of the connection, for CLIENT UNBLOCK (changes on reconnect) */
  clientId: number | undefined;
}

/** Idle blocking connections kept for the next waiting pop; more are closed when released. */
const MAX_IDLE = 8;
/** A BLPOP that has not answered this long after its own timeout is on a dead socket. */
const CLIENT_GRACE_MS = 1500;

/**
 * Waiting without polling. Every state change that makes a job ready rings the queue's doorbell:
 * a list (`mark`) holding at most one element. A waiting pop blocks on the doorbells of its
 * queues with BLPOP on a connection of its own, so a push, from any process, wakes it as soon
 * as the push script ends. A marker left while nobody waits is simply found by the next BLPOP
 * (one spare pop call); a pop that got its `max` and leaves jobs behind rings again, so the
 * next waiter wakes too.
 *
 * Blocking connections are pooled (one per concurrent waiting pop). An aborted wait returns at
 * once: the BLPOP is cut short with CLIENT UNBLOCK (or the connection is dropped when that is not
 * permitted), and a marker it still received is put back so no other waiter misses it.
 */
export class Waker {
  private readonly idle: Blocker[] = [];
  private readonly open = new Set<Blocker>();
  private closed = false;

  constructor(
    /** opens a connection configured for blocking commands */
    private readonly connect: () => Promise<Redis>,
    /** the main connection, for CLIENT UNBLOCK */
    private readonly main: Redis,
    /** puts a marker back on the doorbell of `markKey`'s queue (if jobs are still waiting there) */
    private readonly ring: (markKey: string) => Promise<void>,
  ) {}

  async wait(markKeys: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<WakeOutcome> {
    if (signal.aborted || this.closed) return 'aborted';
    let blocker: Blocker;
    try {
      blocker = await this.acquire();
    } catch {
      return 'error';
    }
    if (signal.aborted || this.closed) {
      this.release(blocker, false);
      return 'aborted';
    }
    // Redis takes the timeout in seconds with sub-second precision (6.0+); 0 would block forever
    const seconds = (Math.max(1, Math.ceil(timeoutMs)) / 1000).toFixed(3);
    let reply: [string, string] | null | 'error' | undefined;
    const blpop = blocker.conn.blpop(...markKeys, seconds).then(
      (r) => {
        reply = r;
      },
      () => {
        reply = 'error';
      },
    );
    let onAbort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'aborted' | 'late'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => resolve('late'), timeoutMs + CLIENT_GRACE_MS);
    });
    const first = await Promise.race([blpop.then(() => 'reply' as const), cut]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    const got = reply;
    if (got !== undefined) {
      // the BLPOP answered (possibly in the same tick as an abort): its marker must not be lost
      this.release(blocker, got === 'error');
      if (first === 'aborted') {
        if (Array.isArray(got)) void this.putBack(got[0]);
        return 'aborted';
      }
      return got === 'error' ? 'error' : got ? 'marker' : 'timeout';
    }
    // Given up while the BLPOP is still out: cut it short, and hand back a marker it may still get.
    void this.unblock(blocker);
    void blpop.finally(() => {
      if (Array.isArray(reply)) void this.putBack(reply[0]);
      this.release(blocker, reply === 'error');
    });
    return first === 'aborted' ? 'aborted' : 'timeout';
  }

  /** Close every blocking connection; waits in progress end with 'error' or 'aborted'. */
  close(): void {
    this.closed = true;
    for (const b of this.open) b.conn.disconnect();
    this.open.clear();
    this.idle.length = 0;
  }

  private async acquire(): Promise<Blocker> {
    for (let b = this.idle.pop(); b; b = this.idle.pop()) {
      if (b.conn.status === 'ready') return b;
      this.discard(b);
    }
    const conn = await this.connect();
    const blocker: Blocker = { conn, clientId: undefined };
    this.open.add(blocker);
    const readId = () => {
      blocker.clientId = undefined;
      conn.client('ID').then(
        (id) => {
          blocker.clientId = Number(id);
        },
        () => undefined,
      );
    };
    conn.on('ready', readId);
    readId();
    if (this.closed) {
      this.discard(blocker);
      throw new Error('closed');
    }
    return blocker;
  }

  private release(b: Blocker, broken: boolean): void {
    if (this.closed || broken || b.conn.status !== 'ready' || this.idle.length >= MAX_IDLE) {
      this.discard(b);
      return;
    }
    this.idle.push(b);
  }

  private discard(b: Blocker): void {
    this.open.delete(b);
    b.conn.disconnect();
  }

  private async unblock(b: Blocker): Promise<void> {
    try {
      if (b.clientId === undefined) throw new Error('no client id');
      const n = await this.main.client('UNBLOCK', b.clientId);
      // 0: the BLPOP had not reached the server yet (or already ended): dropping the connection
      // is the only sure way to end it
      if (Number(n) !== 1) b.conn.disconnect();
    } catch {
      b.conn.disconnect();
    }
  }

  private async putBack(markKey: string): Promise<void> {
    try {
      await this.ring(markKey);
    } catch {
      // the waiters' own timeouts bound the cost of a lost marker
    }
  }
}
