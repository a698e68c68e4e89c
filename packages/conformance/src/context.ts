import { randomBytes } from 'node:crypto';
import { type Backend, type Capabilities, Client, type LeasedJobRecord, sleep } from '@ilkkun/core';
import type { ConformanceOptions } from './options.js';

/** What each suite file receives: the backend under test and helpers bound to it. */
export interface SuiteContext {
  readonly options: ConformanceOptions;
  /** the shared backend for this run (opened in beforeAll) */
  backend(): Backend;
  /** a producer client over the shared backend */
  client(): Client;
  capabilities(): Capabilities;
  /** a fresh queue name, unique to this run; purged after the run */
  queue(label: string): string;
  /** a lease long enough for the backend's clock granularity, scaled */
  shortLeaseMs(): number;
  /** ms scaled by `timeScale` */
  scaled(ms: number): number;
  /** open another instance over the same store; closed after the run */
  openAnother(): Promise<Backend>;
  /** pop until `count` jobs were returned or `waitMs` passed in total */
  popUntil(
    queue: string,
    count: number,
    options?: { leaseMs?: number; waitMs?: number },
  ): Promise<LeasedJobRecord[]>;
  popUntilAny(
    queues: readonly string[],
    count: number,
    options?: { leaseMs?: number; waitMs?: number },
  ): Promise<LeasedJobRecord[]>;
}

export function createSuiteContext(options: ConformanceOptions): SuiteContext & {
  setup(): Promise<void>;
  teardown(): Promise<void>;
} {
  let backend: Backend | undefined;
  let client: Client | undefined;
  const queues: string[] = [];
  const others: Backend[] = [];
  const runId = randomBytes(4).toString('hex');
  const timeScale = options.timeScale ?? 1;

  const ctx = {
    options,
    backend: () => {
      if (!backend) throw new Error('conformance: backend not opened yet (used outside a test?)');
      return backend;
    },
    client: () => {
      client ??= new Client(ctx.backend());
      return client;
    },
    capabilities: () => ctx.backend().capabilities,
    queue: (label: string) => {
      const name = `${options.queuePrefix ?? 'conf'}-${runId}-${label}-${randomBytes(3).toString('hex')}`;
      queues.push(name);
      return name;
    },
    shortLeaseMs: () => Math.max(400, 2 * ctx.capabilities().leaseGranularityMs) * timeScale,
    scaled: (ms: number) => ms * timeScale,
    openAnother: async () => {
      const other = await options.create();
      others.push(other);
      return other;
    },
    popUntil: (queue: string, count: number, o: { leaseMs?: number; waitMs?: number } = {}) =>
      ctx.popUntilAny([queue], count, o),
    popUntilAny: async (
      queues: readonly string[],
      count: number,
      o: { leaseMs?: number; waitMs?: number } = {},
    ) => {
      const deadline = Date.now() + (o.waitMs ?? ctx.scaled(5000));
      const got: LeasedJobRecord[] = [];
      while (got.length < count && Date.now() < deadline) {
        const batch = await ctx.backend().pop(queues, {
          max: count - got.length,
          leaseMs: o.leaseMs ?? 60_000,
          waitMs: Math.max(1, Math.min(1000, deadline - Date.now())),
        });
        got.push(...batch);
      }
      return got;
    },
    async setup() {
      backend = await options.create();
    },
    async teardown() {
      try {
        const inspector = backend?.inspector;
        if (backend && inspector && backend.capabilities.inspect.purge) {
          for (const q of queues) await inspector.purge(q);
        } else if (backend) {
          // no purge: drain what is ready so a shared server is left as clean as we can
          for (const q of queues) {
            for (let i = 0; i < 100; i++) {
              const jobs = await backend.pop([q], { max: 100, leaseMs: 1000 });
              if (jobs.length === 0) break;
              await Promise.all(jobs.map((j) => backend!.ack(j).catch(() => undefined)));
            }
          }
        }
      } finally {
        for (const other of others) await other.close().catch(() => undefined);
        await backend?.close();
        await sleep(0);
      }
    },
  };
  return ctx;
}
