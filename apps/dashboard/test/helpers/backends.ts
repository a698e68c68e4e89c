import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Backend packages resolve from this app (its dependencies), like the CLI's importer. */
export const importer = (specifier: string): Promise<unknown> => import(specifier);

/** A fresh SQLite file and a function that removes it (with its WAL files). */
export function sqliteUrl(label: string): { url: string; cleanup(): void } {
  const file = join(tmpdir(), `ilkkun-dashboard-${label}-${process.pid}-${randomUUID().slice(0, 8)}.db`);
  return {
    url: `sqlite:${file}`,
    cleanup: () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    },
  };
}

/**
 * The Redis backend is a sibling package this app does not depend on (it is loaded by URL, as
 * a user's install would); the test imports its built entry directly.
 */
export const REDIS_DIST = fileURLToPath(new URL('../../../../packages/redis/dist/index.js', import.meta.url));

export function redisImporter(specifier: string): Promise<unknown> {
  if (specifier === '@ilkkun/redis') {
    if (!existsSync(REDIS_DIST)) {
      throw new Error(`@ilkkun/redis is not built (${REDIS_DIST} is missing): run pnpm build`);
    }
    return import(pathToFileURL(REDIS_DIST).href);
  }
  return import(specifier);
}

/** `ILKKUN_REDIS_URL`, else database 9 on the local server, with a key prefix of this run's own. */
export function redisUrl(): string {
  const base = process.env['ILKKUN_REDIS_URL'] ?? 'redis://127.0.0.1:6379/9';
  const url = new URL(base);
  url.searchParams.set('prefix', `ilkkun-dashboard-test-${process.pid}-${randomUUID().slice(0, 8)}`);
  return url.href;
}
