import type { BackoffOptions } from '@ilkkun/core';
import { ConfigError, DEFAULT_BACKOFF, DEFAULT_LEASE_MS, validateBackoff } from '@ilkkun/core';

/**
 * A custom retry delay. It wins over the job's own `backoff` and the queue's setting, so an
 * application can, say, honour a `Retry-After` header carried on the error.
 */
export type BackoffFn = (attemptsMade: number, error: Error) => number;

/** `inline`: handlers run as async functions in this process. `process`: in forked children. */
export type RunnerMode = 'inline' | 'process';

/**
 * Settings a queue can override over `global` (seed 001's `global` section: defaults once,
 * per-worker-class overrides). All durations are in ms.
 */
export interface QueueSettings {
  /** slots: jobs run at once (in `process` mode: the most child processes, Gearman's `max`) */
  concurrency: number;
  /** lease length asked of `pop`; the lease keeper renews it at half this while the job runs */
  leaseMs: number;
  /** how long one `pop` waits for work before the loop pops again */
  waitMs: number;
  /** a job still running after this fails with `JobTimeoutError` (0 = no limit) */
  timeoutMs: number;
  /** retry delay when the job carries none; a function overrides even the job's own */
  backoff: BackoffOptions | BackoffFn;
  /** pause after an empty pop, randomised ±50% so pools started together drift apart */
  idleDelayMs: number;
  mode: RunnerMode;
  /** `process` mode: children kept alive even when idle (Gearman's `min`) */
  minWorkers: number;
  /** `process` mode: recycle a child after this many jobs (0 = never; seed 001 `workleft`) */
  maxJobsPerWorker: number;
  /** `process` mode: an idle child above `minWorkers` is stopped after this long, one at a time */
  workerIdleMs: number;
  /** `process` mode: after abort (timeout, lost lease, shutdown) a child gets this long before SIGKILL */
  killGraceMs: number;
}

/** Settings of the runner as a whole (not per queue). */
export interface RunnerSettings {
  /** `stop()` lets in-flight jobs finish this long before releasing them */
  graceMs: number;
  /** stop gracefully on SIGINT/SIGTERM, exit 0; a second signal exits at once */
  handleSignals: boolean;
  /** status server port on 127.0.0.1 (`undefined` = no server, 0 = any free port) */
  statusPort: number | undefined;
}

export interface DefaultSettings {
  queue: QueueSettings;
  runner: RunnerSettings;
}

/**
 * Every default the runner uses, in one place. docs/runner.md's table is checked against this
 * by a test, so documentation and code cannot drift apart.
 */
export function defaultSettings(): DefaultSettings {
  return {
    queue: {
      // One job at a time unless asked (BullMQ's default): a handler is never surprised by parallelism.
      concurrency: 1,
      leaseMs: DEFAULT_LEASE_MS,
      waitMs: 5_000,
      // A hung handler would otherwise hold its job forever, the heartbeat keeping the lease alive.
      timeoutMs: 600_000,
      backoff: { ...DEFAULT_BACKOFF },
      idleDelayMs: 50,
      mode: 'inline',
      minWorkers: 1,
      maxJobsPerWorker: 0,
      workerIdleMs: 30_000,
      killGraceMs: 2_000,
    },
    runner: {
      graceMs: 10_000,
      handleSignals: false,
      statusPort: undefined,
    },
  };
}

/**
 * Keys that shape the pool rather than one job. A queue overriding any of them gets slots of its
 * own; the other queues share one slot group and one `pop` over all their names.
 */
export const GROUP_KEYS: readonly (keyof QueueSettings)[] = [
  'concurrency',
  'leaseMs',
  'waitMs',
  'idleDelayMs',
  'mode',
  'minWorkers',
  'maxJobsPerWorker',
  'workerIdleMs',
  'killGraceMs',
];

const QUEUE_KEYS = new Set<string>(Object.keys(defaultSettings().queue));

/** Validate a partial settings object (from code or a config file); `where` names it in errors. */
export function validateSettings(value: unknown, where: string): Partial<QueueSettings> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where} must be an object`);
  }
  const input = value as Record<string, unknown>;
  const out: Partial<QueueSettings> = {};
  for (const key of Object.keys(input)) {
    if (!QUEUE_KEYS.has(key)) {
      throw new ConfigError(`${where}: unknown setting "${key}"; known: ${[...QUEUE_KEYS].join(', ')}`);
    }
  }
  const int = (key: keyof QueueSettings, min: number): number | undefined => {
    const v = input[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2_147_483_647) {
      throw new ConfigError(`${where}.${key} must be an integer ≥ ${min}`);
    }
    return v;
  };
  const assign = <K extends keyof QueueSettings>(key: K, v: QueueSettings[K] | undefined) => {
    if (v !== undefined) out[key] = v;
  };
  assign('concurrency', int('concurrency', 1));
  assign('leaseMs', int('leaseMs', 1));
  assign('waitMs', int('waitMs', 0));
  assign('timeoutMs', int('timeoutMs', 0));
  assign('idleDelayMs', int('idleDelayMs', 0));
  assign('minWorkers', int('minWorkers', 0));
  assign('maxJobsPerWorker', int('maxJobsPerWorker', 0));
  assign('workerIdleMs', int('workerIdleMs', 1));
  assign('killGraceMs', int('killGraceMs', 0));
  const mode = input['mode'];
  if (mode !== undefined) {
    if (mode !== 'inline' && mode !== 'process')
      throw new ConfigError(`${where}.mode must be "inline" or "process"`);
    out.mode = mode;
  }
  const backoff = input['backoff'];
  if (backoff !== undefined) {
    if (typeof backoff === 'function') {
      out.backoff = backoff as BackoffFn;
    } else {
      try {
        out.backoff = validateBackoff(backoff);
      } catch (err) {
        throw new ConfigError(`${where}.backoff: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return out;
}

/** `defaults` ← `global` ← `own`, then cross-field checks. */
export function mergeSettings(
  defaults: QueueSettings,
  global: Partial<QueueSettings>,
  own: Partial<QueueSettings>,
  where: string,
): QueueSettings {
  const merged: QueueSettings = { ...defaults, ...global, ...own };
  if (merged.mode === 'process' && merged.minWorkers > merged.concurrency) {
    throw new ConfigError(
      `${where}: minWorkers (${merged.minWorkers}) must not exceed concurrency (${merged.concurrency})`,
    );
  }
  return merged;
}
