import { Redis } from 'ioredis';

/** host/port/db (and credentials) of a `redis://host:port/db` URL, for the rivals' own clients. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

export function parseRivalUrl(url: string): RedisTarget {
  const u = new URL(url);
  if (u.protocol !== 'redis:') throw new Error(`a rival URL must be redis://host:port/db, not ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`bad database number in ${u.pathname}`);
  const target: RedisTarget = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), db };
  if (u.username) target.username = decodeURIComponent(u.username);
  if (u.password) target.password = decodeURIComponent(u.password);
  return target;
}

/** `redis://host:port/db` without credentials, for tables. */
export function displayUrl(t: RedisTarget): string {
  return `redis://${t.host}:${t.port}/${t.db}`;
}

/** A prefix no other run shares: the rival's keys all start with it, and only they are deleted. */
export function runPrefix(rival: string): string {
  return `ilkkun-bench-${rival}-${process.pid}-${Date.now().toString(36)}`;
}

/**
 * Deletes keys matching `pattern` (SCAN, never KEYS, never FLUSHDB: the database may hold
 * other people's data). Returns how many went.
 */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

export function adminClient(t: RedisTarget): Redis {
  return new Redis({ ...t, lazyConnect: false, maxRetriesPerRequest: 3 });
}

/** What every Redis rival opens with: its target, a checked admin connection, a key prefix of its own. */
export async function connectRival(
  url: string,
  rival: string,
): Promise<{ target: RedisTarget; admin: Redis; prefix: string }> {
  const target = parseRivalUrl(url);
  const admin = adminClient(target);
  await admin.ping();
  return { target, admin, prefix: runPrefix(rival) };
}
