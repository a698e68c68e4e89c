import type { RunnerMode } from '@ilkkun/runner';

/** What the orchestrator passes a worker process (as JSON in argv). */
export interface WorkerConfig {
  /** the URL this worker connects to (the proxy's, in proxy scenarios) */
  url: string;
  queue: string;
  mode: RunnerMode;
  concurrency: number;
  leaseMs: number;
}

export interface WorkerStats {
  /** slots running a handler right now */
  busy: number;
  /** `lease:lost` events so far */
  leaseLost: number;
  /** `error` events so far (pops, heartbeats, acks that failed for another reason) */
  errors: number;
  /** `job:complete` events so far */
  completed: number;
}

/** One JSON line a worker writes on stdout. */
export interface WorkerMessage {
  ready?: boolean;
  pid?: number;
  /** a handler child started (`up`) or exited */
  child?: number;
  up?: boolean;
  stats?: WorkerStats;
}
