import { BackendUnavailableError, hasErrorCode } from '@ilkkun/core';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { AmqpConnection } from './connection.js';

/** One message to publish through the default exchange straight into a queue. */
export interface Outgoing {
  /** the broker queue (routing key on the default exchange) */
  queue: string;
  content: Buffer;
  /** messageId (the job id), headers, priority; must say persistent and mandatory */
  options: Options.Publish & { messageId: string; persistent: true; mandatory: true };
  /** declare the target queue (cached per connection; declared again after a return) */
  ensure: () => Promise<unknown>;
}

type Outcome = 'ok' | 'retry' | 'returned';

interface OpenChannel {
  gen: number;
  ch: Promise<ConfirmChannel>;
  /** messageIds the broker returned as unroutable on this channel (their queue was deleted) */
  returned: Set<string>;
  closed: boolean;
}

/**
 * Publishes with confirms: a call resolves only once the broker has taken responsibility for
 * every message (persisted, for durable queues). A batch is written in one go and its confirms
 * are awaited together. Messages are `mandatory`: if a queue vanished (a purge from another
 * process deletes and re-creates it) the broker returns them instead of dropping them silently,
 * and they are declared and sent again. A channel or connection lost mid-way is waited out
 * (up to `timeoutMs` for the whole call) and the unconfirmed messages are sent again — so a
 * message can be stored twice (same job id) if its confirm was lost, never zero times.
 */
export class Publisher {
  private open: OpenChannel | undefined;

  constructor(
    private readonly conn: AmqpConnection,
    private readonly timeoutMs: number,
    /** a queue turned out not to exist: forget that it was declared */
    private readonly onReturned: (queue: string) => void,
  ) {}

  private channel(): OpenChannel {
    const gen = this.conn.generation;
    if (this.open && this.open.gen === gen && !this.open.closed) return this.open;
    const state: OpenChannel = { gen, ch: this.conn.confirmChannel(), returned: new Set(), closed: false };
    state.ch.then(
      (ch) => {
        ch.on('return', (msg: Message) => {
          const id: unknown = msg.properties.messageId;
          if (typeof id === 'string') state.returned.add(id);
        });
        ch.on('close', () => {
          state.closed = true;
        });
      },
      () => {
        state.closed = true;
      },
    );
    this.open = state;
    return state;
  }

  async publish(items: readonly Outgoing[], doing: string): Promise<void> {
    if (items.length === 0) return;
    const deadline = Date.now() + this.timeoutMs;
    let pending = items;
    let lastError: unknown;
    while (pending.length > 0) {
      if (!(await this.conn.waitUp(deadline))) throw this.failure(doing, pending.length, lastError);
      try {
        const state = this.channel();
        const ch = await state.ch;
        const ensures = new Map<string, () => Promise<unknown>>();
        for (const item of pending) ensures.set(item.queue, item.ensure);
        await Promise.all([...ensures.values()].map((ensure) => ensure()));
        const outcomes = await this.send(ch, state, pending, deadline);
        const again: Outgoing[] = [];
        pending.forEach((item, i) => {
          if (outcomes[i] === 'returned') this.onReturned(item.queue);
          if (outcomes[i] !== 'ok') again.push(item);
        });
        pending = again;
      } catch (err) {
        // a refused setting (406, 403) will not heal by waiting; anything else is retried until the deadline
        if (hasErrorCode(err, 'CONFIG') || hasErrorCode(err, 'BACKEND_CLOSED')) throw err;
        lastError = err;
      }
      if (pending.length > 0) {
        if (Date.now() >= deadline) throw this.failure(doing, pending.length, lastError);
        // give a reconnect the chance to start instead of spinning on a dead channel
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private failure(doing: string, count: number, cause: unknown): Error {
    if (this.conn.state === 'closed') return this.conn.unavailable(doing);
    return new BackendUnavailableError(
      `RabbitMQ at ${this.conn.where} did not confirm ${count} message(s) within ${this.timeoutMs} ms while ${doing}; ` +
        'they may or may not be stored (retrying may store a job twice, never zero times)',
      cause === undefined ? {} : { cause },
    );
  }

  private async send(
    ch: ConfirmChannel,
    state: OpenChannel,
    items: readonly Outgoing[],
    deadline: number,
  ): Promise<Outcome[]> {
    const confirms: Array<Promise<Outcome>> = [];
    for (const item of items) {
      if (state.closed) {
        confirms.push(Promise.resolve('retry'));
        continue;
      }
      const id = item.options.messageId;
      state.returned.delete(id);
      let writable = true;
      confirms.push(
        new Promise<Outcome>((resolve) => {
          try {
            writable = ch.publish('', item.queue, item.content, item.options, (err: unknown) => {
              // the broker sends basic.return before the ack of the same message
              if (err) resolve('retry');
              else resolve(state.returned.delete(id) ? 'returned' : 'ok');
            });
          } catch {
            resolve('retry');
          }
        }),
      );
      // respect the socket's back-pressure: a huge batch must not buffer without bound
      if (!writable) await drainedOrClosed(ch, state);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    const result = await Promise.race([Promise.all(confirms), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') throw new Error('publisher confirms did not arrive in time');
    return result;
  }
}

function drainedOrClosed(ch: ConfirmChannel, state: OpenChannel): Promise<void> {
  if (state.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.once('drain', done);
    ch.once('close', done);
  });
}
