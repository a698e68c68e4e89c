import { ConfigError } from '@ilkkun/core';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

/** What a chaos run can be asked (every field optional; see `resolveOptions` for defaults). */
export interface ChaosOptions {
  /** jobs pushed per scenario (default 1000) */
  jobs?: number;
  /** worker processes (runner pools) per scenario (default 3) */
  workers?: number;
  /** slots per worker (default 4) */
  concurrency?: number;
  /** lease asked of the store, ms (default 2000) */
  leaseMs?: number;
  /** scenarios to run (default: all) */
  scenarios?: readonly string[];
  /** how long faults are injected, ms (default 8000); the jobs' work is sized to last about this long */
  durationMs?: number;
  /** faults per scenario (default 4) */
  faults?: number;
  /** after the last fault, how long the store may take to drain (default max(30 s, 10 leases)) */
  drainTimeoutMs?: number;
  /** a shell command that restarts the server (the server-restart scenario runs only with it) */
  restartCmd?: string;
  /** how long the restart command may take (default 60 s) */
  restartTimeoutMs?: number;
  /** where ledgers go (default: a new directory under the OS temp dir, removed after the run unless `keepLedgers`) */
  ledgerDir?: string;
  keepLedgers?: boolean;
  /** called about every 250 ms with the running scenario's figures (for a progress display) */
  onProgress?: (progress: ChaosProgress) => void;
  /** how backend packages are imported (the CLI passes its own `import`) */
  importer?: (specifier: string) => Promise<unknown>;
}

export interface ChaosProgress {
  scenario: ScenarioName;
  /** the scenario's queue (`chaos-<scenario>-<random>`) */
  queue: string;
  /** `starting`, `faults` (injecting), `draining`, `checking` */
  phase: 'starting' | 'faults' | 'draining' | 'checking';
  submitted: number;
  /** distinct jobs whose handler finished at least once */
  ran: number;
  completed: number;
  faultsDone: number;
  faultsPlanned: number;
  workersAlive: number;
  elapsedMs: number;
}

export interface ResolvedOptions {
  jobs: number;
  workers: number;
  concurrency: number;
  leaseMs: number;
  scenarios: ScenarioName[];
  durationMs: number;
  faults: number;
  drainTimeoutMs: number;
  restartCmd: string | undefined;
  restartTimeoutMs: number;
}

/** Upper bounds: a chaos run must stay bounded in processes, jobs and time. */
const LIMITS = {
  jobs: [1, 100_000],
  workers: [2, 16],
  concurrency: [1, 64],
  leaseMs: [200, 600_000],
  durationMs: [100, 3_600_000],
  faults: [1, 1000],
  drainTimeoutMs: [1000, 3_600_000],
  restartTimeoutMs: [1000, 600_000],
} as const satisfies Record<string, readonly [number, number]>;

type Limited = keyof typeof LIMITS;

/** Fill defaults and check every value; a bad one is a `ConfigError` naming it and its range. */
export function resolveOptions(options: ChaosOptions): ResolvedOptions {
  const int = (key: Limited, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const [min, max] = LIMITS[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`chaos option ${key} must be an integer from ${min} to ${max}, not ${value}`);
    }
    return value;
  };
  const leaseMs = int('leaseMs', options.leaseMs, 2000);
  const scenarios = pickScenarios(options.scenarios);
  const restartCmd = options.restartCmd?.trim() || undefined;
  return {
    jobs: int('jobs', options.jobs, 1000),
    workers: int('workers', options.workers, 3),
    concurrency: int('concurrency', options.concurrency, 4),
    leaseMs,
    scenarios,
    durationMs: int('durationMs', options.durationMs, 8000),
    faults: int('faults', options.faults, 4),
    drainTimeoutMs: int('drainTimeoutMs', options.drainTimeoutMs, Math.max(30_000, 10 * leaseMs)),
    restartCmd,
    restartTimeoutMs: int('restartTimeoutMs', options.restartTimeoutMs, 60_000),
  };
}

function pickScenarios(names: readonly string[] | undefined): ScenarioName[] {
  if (names === undefined || names.length === 0) return [...SCENARIO_NAMES];
  const unknown = names.filter((n) => !isScenarioName(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown chaos scenario${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; valid: ${SCENARIO_NAMES.join(', ')}`,
    );
  }
  // the run order is the catalogue's, whatever order they were given in; each runs once
  return SCENARIO_NAMES.filter((n) => names.includes(n));
}
