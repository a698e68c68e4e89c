import type { Backend } from '@ilkkun/core';
import { ServerClock } from './clock.js';
import { connectionOptions, openConnection } from './connection.js';
import { type RedisBackendOptions, resolveOptions } from './options.js';
import { parseRedisUrl } from './parse-url.js';
import { preflight } from './preflight.js';
import { RedisBackend } from './redis-backend.js';
import { ScriptRunner } from './script-runner.js';
import { SCRIPTS } from './scripts/index.js';
import { Store } from './store.js';
import { Waker } from './wake.js';

export { type QueueKeys, queueKeys, registryKey } from './keys.js';
export type { EvictionPolicyMode, RedisBackendOptions } from './options.js';
export { parseRedisUrl } from './parse-url.js';
export { canEvictJobs, EVICTION_WARNING_CODE, type PreflightReport } from './preflight.js';
export { RedisBackend } from './redis-backend.js';

/**
 * Open the Redis backend a `redis://` or `rediss://` URL names (core's `openBackend` calls
 * this). Connects, checks the server (version, eviction policy), loads the scripts and measures
 * the clock offset before resolving, so a bad setup fails here and not on the first job.
 *
 * ```ts
 * const backend = await createBackend('redis://127.0.0.1:6379/0?prefix=myapp');
 * ```
 */
export async function createBackend(url: string, options: RedisBackendOptions = {}): Promise<Backend> {
  const target = parseRedisUrl(url);
  const resolved = resolveOptions(target.params, options as Record<string, unknown>);
  // messages name host:port/db only, never the URL with its credentials
  const where = `${target.host}:${target.port}/${target.db}`;
  const conn = await openConnection(connectionOptions(target, resolved, 'main'), where);
  try {
    await preflight(conn, resolved.evictionPolicy, where);
    const runner = new ScriptRunner(conn, where);
    await runner.loadAll();
    const clock = new ServerClock(conn);
    await clock.sync();
    clock.start();
    const store = new Store(conn, runner, clock, resolved, where);
    const waker = new Waker(
      () => openConnection(connectionOptions(target, resolved, 'blocking'), where),
      conn,
      async (markKey) => {
        const queue = store.queueOfMark(markKey);
        if (queue !== undefined) await store.run(SCRIPTS.ring, queue, []);
      },
    );
    return new RedisBackend(store, waker);
  } catch (err) {
    conn.disconnect();
    throw err;
  }
}
