import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendModule } from '@ilkkun/core';
import { Client, createMemoryBackend } from '@ilkkun/core';
import type { EventName, Runner, RunnerEvents } from '../src/index.js';

/** A real backend to run the runner against; never a mock. */
export interface BackendCase {
  name: string;
  open(): Promise<{ backend: Backend; cleanup(): Promise<void> }>;
}

const sqliteDist = fileURLToPath(new URL('../../sqlite/dist/index.js', import.meta.url));

async function loadSqlite(): Promise<BackendModule | undefined> {
  if (!existsSync(sqliteDist)) return undefined;
  try {
    return (await import('@ilkkun/sqlite')) as BackendModule;
  } catch (err) {
    console.warn(
      `[runner tests] @ilkkun/sqlite did not load, sqlite cases skipped: ${(err as Error).message}`,
    );
    return undefined;
  }
}

const sqlite = await loadSqlite();
let fileSeq = 0;

export const backendCases: BackendCase[] = [
  {
    name: 'memory',
    open: async () => {
      const backend = createMemoryBackend();
      return { backend, cleanup: () => backend.close() };
    },
  },
];
if (sqlite) {
  backendCases.push({
    name: 'sqlite',
    open: async () => {
      const file = join(tmpdir(), `ilkkun-runner-${process.pid}-${Date.now()}-${++fileSeq}.db`);
      const backend = await sqlite.createBackend(`sqlite:${file}`);
      return {
        backend,
        cleanup: async () => {
          await backend.close();
          for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
        },
      };
    },
  });
}

let queueSeq = 0;
/** Each test uses its own queue names. */
export function queueName(label: string): string {
  return `test.${label}.${process.pid}.${++queueSeq}`;
}

/** Poll `check` until it returns truthy; generous default bound, never a timing claim. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every payload of one event, as it happens. */
export function collect<K extends EventName>(runner: Runner, event: K): RunnerEvents[K][] {
  const seen: RunnerEvents[K][] = [];
  runner.on(event, (p) => seen.push(p));
  return seen;
}

export function client(backend: Backend): Client {
  return new Client(backend);
}

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
