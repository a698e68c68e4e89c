import type { Capabilities } from '@ilkkun/core';
import { type TestContext, test } from 'vitest';
import type { SuiteContext } from './context.js';

/** A capability the case needs; when the backend lacks it the case is reported unsupported, never passed. */
export type Requirement = (caps: Capabilities) => string | undefined;

export const requires = {
  priorities: (c: Capabilities) => (c.priorities ? undefined : 'backend does not support priorities'),
  delays: (c: Capabilities) => (c.delays ? undefined : 'backend does not support delayed jobs'),
  uniqueKeys: (c: Capabilities) => (c.uniqueKeys ? undefined : 'backend does not support uniqueKey'),
  extend: (c: Capabilities) => (c.extend ? undefined : 'backend does not support extend()'),
  multiProcess: (c: Capabilities) => (c.multiProcess ? undefined : 'store is private to one process'),
  counts: (c: Capabilities) => (c.inspect.counts ? undefined : 'backend has no counts()'),
  list: (c: Capabilities) => (c.inspect.list ? undefined : 'backend has no list()'),
  retryDead: (c: Capabilities) => (c.inspect.retryDead ? undefined : 'backend has no retryDead()'),
  deleteJobs: (c: Capabilities) => (c.inspect.deleteJobs ? undefined : 'backend has no deleteJobs()'),
  purge: (c: Capabilities) => (c.inspect.purge ? undefined : 'backend has no purge()'),
} satisfies Record<string, Requirement>;

/** Skip notes start with this, so reports can tell "unsupported" from other skips. */
export const UNSUPPORTED_PREFIX = 'unsupported: ';

/** Attach a measured figure (e.g. a wake-up latency) to the case; reports show it. */
export function recordDetail(t: TestContext, detail: string): void {
  (t.task.meta as Record<string, unknown>)['detail'] = detail;
}

/**
 * Register one contract case. The requirements are checked when the case runs (capabilities
 * are known only once the backend is open); a missing one skips the case with a note.
 */
export function contractTest(
  ctx: SuiteContext,
  name: string,
  needs: readonly Requirement[],
  body: (t: TestContext) => Promise<void>,
  timeoutMs = 30_000,
): void {
  test(
    name,
    async (t) => {
      for (const need of needs) {
        const missing = need(ctx.capabilities());
        if (missing) {
          t.skip(UNSUPPORTED_PREFIX + missing);
          return;
        }
      }
      await body(t);
    },
    timeoutMs,
  );
}
