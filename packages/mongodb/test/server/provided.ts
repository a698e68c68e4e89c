import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the server the test/server files run against */
    mongodbUrl: string;
    /** "wire-double" (pnpm test) or "server" (pnpm test) */
    mongodbServer: 'wire-double' | 'server';
  }
}

/** `url` with a fresh collection prefix, so runs never see each other's jobs. */
export function withFreshPrefix(url: string, label: string): { url: string; prefix: string } {
  const prefix = `${label}_${randomBytes(4).toString('hex')}`;
  return { url: `${url}${url.includes('?') ? '&' : '?'}prefix=${prefix}`, prefix };
}

/** Drop the collections of one prefix (only ours: never the database, never other prefixes). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = new MongoClient(url.replace(/([?&])prefix=[^&]*&?/, '$1').replace(/[?&]$/, ''), {
    serverSelectionTimeoutMS: 5000,
  });
  try {
    await client.connect();
    const db = client.db();
    for (const name of ['jobs', 'fence', 'keys']) {
      await db
        .collection(`${prefix}_${name}`)
        .drop()
        .catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}
