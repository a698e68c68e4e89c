import { randomBytes } from 'node:crypto';
import { assertQueueName } from '@ilkkun/core';
import type { Redis } from 'ioredis';
import { classifyError } from './classify-error.js';
import type { ServerClock } from './clock.js';
import { type QueueKeys, queueKeys, registryKey, scriptKeys } from './keys.js';
import type { ResolvedRedisOptions } from './options.js';
import type { ScriptRunner } from './script-runner.js';
import type { LuaScript } from './scripts/index.js';

/** What a script call for one queue needs besides its own arguments. */
interface QueueHandle {
  keys: QueueKeys;
  /** KEYS of every script */
  scriptKeys: string[];
  /** ARGV 1–4 of every script: retention */
  common: Array<string | number>;
}

/** Bound on the per-process cache of key names (queues can be created dynamically). */
const MAX_CACHED_QUEUES = 10_000;
/**
 * How long a queue counts as registered in `<prefix>:queues` after this process added it. A
 * push re-registers its queue at most this often (not on every push: that would be a second
 * command per single add), so after a purge by another process the queue shows up in
 * `inspector.queues()` again within this time.
 */
const REGISTER_EVERY_MS = 10_000;

/**
 * The connection-level pieces shared by the backend and its inspector: the main connection,
 * the script runner, the server clock, and the key names of each queue.
 */
export class Store {
  private readonly handles = new Map<string, QueueHandle>();
  /** doorbell key → queue, for the waker */
  private readonly byMark = new Map<string, string>();
  /** queue → when this process last added it to the registry */
  private readonly registeredAt = new Map<string, number>();
  readonly registry: string;
  /** this backend instance's id in key names (its recent-call answers; see calls.ts) */
  readonly instance = randomBytes(6).toString('hex');

  constructor(
    readonly conn: Redis,
    readonly runner: ScriptRunner,
    readonly clock: ServerClock,
    readonly options: ResolvedRedisOptions,
    /** the server, for messages: host:port/db, never credentials */
    readonly where: string,
  ) {
    this.registry = registryKey(options.prefix);
  }

  /** Key names of a queue; the name is checked here because it becomes part of every key. */
  queue(name: string): QueueHandle {
    let handle = this.handles.get(name);
    if (handle) return handle;
    assertQueueName(name);
    const keys = queueKeys(this.options.prefix, name, this.instance);
    const o = this.options;
    handle = {
      keys,
      scriptKeys: scriptKeys(keys),
      common: [o.keepCompleted, o.keepCompletedMs, o.keepDead, o.keepDeadMs],
    };
    if (this.handles.size >= MAX_CACHED_QUEUES) {
      this.handles.clear();
      this.byMark.clear();
    }
    this.handles.set(name, handle);
    this.byMark.set(keys.mark, name);
    return handle;
  }

  /** The queue whose doorbell key this is (undefined if this process never used it). */
  queueOfMark(markKey: string): string | undefined {
    return this.byMark.get(markKey);
  }

  /** Queues of a push not registered lately; they are added to the registry after the push script. */
  unregistered(queues: Iterable<string>): string[] {
    const now = Date.now();
    const out: string[] = [];
    for (const q of queues) {
      const at = this.registeredAt.get(q);
      if (at === undefined || now - at > REGISTER_EVERY_MS) out.push(q);
    }
    return out;
  }

  markRegistered(queues: readonly string[], registered: boolean): void {
    if (this.registeredAt.size >= MAX_CACHED_QUEUES) this.registeredAt.clear();
    const now = Date.now();
    for (const q of queues) {
      if (registered) this.registeredAt.set(q, now);
      else this.registeredAt.delete(q);
    }
  }

  /** An ioredis error as the ilkkun error a caller can act on (see classify-error.ts). */
  classify(err: unknown, action: string): unknown {
    return classifyError(err, action, this.where);
  }

  /** Run a plain command, translating its errors. */
  async command<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.classify(err, action);
    }
  }

  /** Run a script for one queue with the common arguments followed by `args`. */
  run(script: LuaScript, queue: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    const q = this.queue(queue);
    return this.runner.run(script, q.scriptKeys, [...q.common, ...args]);
  }
}
