/**
 * Key layout. Jobs are stored column-wise: one hash per field, keyed by job id, rather than one
 * hash per job. A pop or ack of N jobs is then a fixed handful of variadic commands inside its
 * script (HMGET/HDEL with N ids) instead of N commands, which is where the per-job cost of a
 * Lua script goes.
 *
 * Every key of one queue is `<prefix>:{<queue>}:<suffix>`: the `{queue}` hash tag
 * puts all of them in one Redis Cluster slot, so each Lua script touches a single slot, and the
 * braces keep prefix and queue apart (prefix `a` + queue `b:c` ≠ prefix `a:b` + queue `c`).
 * Prefixes and queue names cannot contain braces (both alphabets exclude them), so the tag is
 * always the queue name and nothing a user types can move a key to another slot.
 *
 * The per-prefix queue registry (`<prefix>:queues`) is the one key outside any queue's slot; it
 * is only ever written next to, never inside, a script.
 */
export interface QueueKeys {
  /** ZSET, all scores 0, member = fixed-width (priority desc, runAt, id): lexicographic = pop order */
  wait: string;
  /** ZSET score = runAt ms, member as in `wait` (moved there when due) */
  delay: string;
  /** ZSET score = lease deadline ms, member = `id:token` (the lease is part of the name) */
  active: string;
  /** ZSET score = completion time, member = zero-padded id (only with `keepCompleted` > 0) */
  done: string;
  /** ZSET score = time of death, member = zero-padded id */
  dead: string;
  /** LIST of wake-up markers; a waiting pop BLPOPs it */
  mark: string;
  /** HASH uniqueKey → id of the live job holding it */
  unique: string;
  /** STRING counter the ids come from (dropped by a purge that empties the queue) */
  id: string;
  /** HASH id → attemptsMade, for jobs attempted at least once */
  att: string;
  /** HASH id → uniqueKey, for live jobs holding one (so an ack batch frees keys without reading each job) */
  owner: string;
  /** HASH id → header `priority \t maxAttempts \t createdAt \t runAt \t backoff \t uniqueKey` */
  head: string;
  /** HASH id → payload JSON text (immutable) */
  body: string;
  /** HASH id → lastError JSON, for jobs that have failed */
  err: string;
  /**
   * HASH slot → `call:answer`: the answers of this backend instance's recent lease-ending calls on
   * the queue (a ring of 64, expires 10 minutes after the last write; see calls.ts)
   */
  calls: string;
}

/** KEYS of every script, in this order (see scripts/prelude.ts). */
export const KEY_ORDER = [
  'wait',
  'delay',
  'active',
  'done',
  'dead',
  'mark',
  'unique',
  'id',
  'att',
  'owner',
  'head',
  'body',
  'err',
  'calls',
] as const;

/** `instance`: the backend instance's id (its recent-call answers are kept apart from others'). */
export function queueKeys(prefix: string, queue: string, instance: string): QueueKeys {
  const base = `${prefix}:{${queue}}:`;
  return {
    wait: `${base}wait`,
    delay: `${base}delay`,
    active: `${base}active`,
    done: `${base}done`,
    dead: `${base}dead`,
    mark: `${base}mark`,
    unique: `${base}unique`,
    id: `${base}id`,
    att: `${base}att`,
    owner: `${base}owner`,
    head: `${base}head`,
    body: `${base}body`,
    err: `${base}err`,
    calls: `${base}calls:${instance}`,
  };
}

/** The KEYS array a script receives for one queue. */
export function scriptKeys(keys: QueueKeys): string[] {
  return KEY_ORDER.map((k) => keys[k]);
}

/** SET of the queue names this prefix has seen (for `inspector.queues()`). */
export function registryKey(prefix: string): string {
  return `${prefix}:queues`;
}

/** Ids are decimal counters; anything else cannot name a job of ours. */
export function isJobId(id: string): boolean {
  return /^[1-9][0-9]{0,15}$/.test(id);
}
