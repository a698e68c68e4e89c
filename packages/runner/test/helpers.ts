import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '@ilkkun/core';
import { Client, createMemoryBackend } from '@ilkkun/core';
import { createBackend as createRedisBackend } from '@ilkkun/redis';
import { createBackend as createSqliteBackend } from '@ilkkun/sqlite';
import { afterEach, beforeEach } from 'vitest';
import type { EventName, Runner, RunnerEvents } from '../src/index.js';

/** A real backend to run the runner against; never a mock. */
export interface BackendCase {
  name: string;
  open(): Promise<{ backend: Backend; cleanup(): Promise<void> }>;
}

let fileSeq = 0;

export const backendCases: BackendCase[] = [
  {
    name: 'memory',
    open: async () => {
      const backend = createMemoryBackend();
      return { backend, cleanup: () => backend.close() };
    },
  },
  {
    name: 'sqlite',
    open: async () => {
      const file = join(tmpdir(), `ilkkun-runner-${process.pid}-${Date.now()}-${++fileSeq}.db`);
      const backend = await createSqliteBackend(`sqlite:${file}`);
      return {
        backend,
        cleanup: async () => {
          await backend.close();
          for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
        },
      };
    },
  },
];

/** A server backend opened under a prefix of its own, emptied through the public API afterwards. */
function serverCase(name: string, baseUrl: string, open: (url: string) => Promise<Backend>): BackendCase {
  return {
    name,
    open: async () => {
      const sep = baseUrl.includes('?') ? '&' : '?';
      const backend = await open(`${baseUrl}${sep}prefix=ilkkun-runner-test-${process.pid}-${++fileSeq}`);
      return {
        backend,
        cleanup: async () => {
          for (const q of await backend.inspector!.queues()) await backend.inspector!.purge(q);
          await backend.close();
        },
      };
    },
  };
}

/**
 * The crash and shutdown scenarios also run on every server backend (issue: "every backend reruns
 * the runner's crash/shutdown tests"). A server that is down fails these tests; it is never skipped.
 */
export const serverBackendCases: BackendCase[] = [
  serverCase('redis', process.env['ILKKUN_REDIS_URL'] ?? 'redis://127.0.0.1:6379/9', createRedisBackend),
];

let queueSeq = 0;
/** Each test uses its own queue names. */
export function queueName(label: string): string {
  return `test.${label}.${process.pid}.${++queueSeq}`;
}

export { eventually } from '@ilkkun/conformance';

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

/**
 * Per-test setup shared by the runner suites: opens the case's backend before each test (handed
 * to `onOpen`), and afterwards stops every runner the test started, then cleans the backend up.
 */
export function useBackendCase(backendCase: BackendCase, onOpen: (backend: Backend) => void) {
  const runners: Runner[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const opened = await backendCase.open();
    cleanup = opened.cleanup;
    onOpen(opened.backend);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop({ graceMs: 0 })));
    await cleanup?.();
  });
  /** start a runner that the test's teardown will stop */
  const start = async (r: Runner) => {
    runners.push(r);
    await r.start();
    return r;
  };
  return { runners, start };
}
