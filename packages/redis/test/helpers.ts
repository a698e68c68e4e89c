import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** The shared Redis the tests use: db 9 by default, to stay out of other users' way. */
export const REDIS_URL = process.env['ILKKUN_REDIS_URL'] ?? 'redis://127.0.0.1:6379/9';

/** A prefix no other run uses, so runs never see each other's keys. */
export function testPrefix(label = 'test'): string {
  return `ilkkun-${label}-${randomBytes(4).toString('hex')}`;
}

export function withParams(url: string, params: Record<string, string | number>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

/** A plain ioredis client on a URL (query parameters ignored). */
export function rawClient(url: string): Redis {
  const u = new URL(url);
  u.search = '';
  const client = new Redis(u.toString(), { lazyConnect: false, maxRetriesPerRequest: 2 });
  client.on('error', () => undefined);
  return client;
}

/** Every key of a prefix (SCAN, never KEYS on a shared server). */
export async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    out.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

/** Delete everything under a prefix (the shared server is never flushed). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = rawClient(url);
  try {
    const keys = await keysOf(client, prefix);
    for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  port: number;
  url: string;
  dir: string;
  /** a client for assertions and CONFIG SET */
  client(): Redis;
  /** SIGKILL: no shutdown, no final save */
  kill9(): Promise<void>;
  /** SHUTDOWN NOSAVE: a clean exit without an RDB snapshot (AOF, if on, is what survives) */
  shutdownNoSave(): Promise<void>;
  /** start again on the same port and directory */
  restart(): Promise<void>;
  /** stop for good and remove the directory */
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free loopback port, with its files in a temporary
 * directory. Killed (and the directory removed) by `stop()`.
 */
export async function startRedisServer(options: { appendonly?: boolean } = {}): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ilkkun-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--save',
    '',
  ];
  if (options.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const launch = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        // wait until the AOF is loaded
        for (;;) {
          const info = await probe.info('persistence');
          if (/loading:0/.test(info)) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const kill = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    dir,
    client() {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    kill9: () => kill('SIGKILL'),
    async shutdownNoSave() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      const conn = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      conn.on('error', () => undefined);
      await conn.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      conn.disconnect();
      await exited;
    },
    restart: launch,
    async stop() {
      for (const c of clients) c.disconnect();
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls of one command so far, from INFO commandstats (e.g. "evalsha"). */
export async function commandCalls(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}
