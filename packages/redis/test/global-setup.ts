import { Redis } from 'ioredis';

/**
 * The tests need a real Redis (never a mock). When it is not there the run fails loudly with
 * how to start it, instead of skipping and looking green.
 */
export default async function setup(): Promise<void> {
  const url = process.env['ILKKUN_REDIS_URL'] ?? 'redis://127.0.0.1:6379/9';
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  const timer = setTimeout(() => client.disconnect(), 2500);
  try {
    await client.connect();
    await client.ping();
  } catch {
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new Error(`Redis not reachable at ${shown}; start it with: bash scripts/services/start.sh redis`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
