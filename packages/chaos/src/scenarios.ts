import type { RunnerMode } from '@ilkkun/runner';

/** Every fault scenario `ilkkun chaos` knows, in the order it runs them. */
export const SCENARIO_NAMES = [
  'kill-children',
  'kill-workers-process',
  'kill-workers-inline',
  'stop-worker',
  'cut-connections',
  'silent-connection',
  'server-restart',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** What a scenario needs besides worker processes. */
export type ScenarioNeed = 'proxy' | 'restart-cmd';

export interface ScenarioSpec {
  name: ScenarioName;
  /** how the workers run their handlers */
  mode: RunnerMode;
  needs?: ScenarioNeed;
  /** one line for the report and `--help` */
  summary: string;
}

export const SCENARIOS: Readonly<Record<ScenarioName, ScenarioSpec>> = {
  'kill-children': {
    name: 'kill-children',
    mode: 'process',
    summary: 'SIGKILL handler child processes mid-job; the pool replaces them',
  },
  'kill-workers-process': {
    name: 'kill-workers-process',
    mode: 'process',
    summary: 'SIGKILL whole worker pools (process mode, children die with them); replacements start',
  },
  'kill-workers-inline': {
    name: 'kill-workers-inline',
    mode: 'inline',
    summary: 'SIGKILL whole worker pools (inline mode) mid-job; replacements start',
  },
  'stop-worker': {
    name: 'stop-worker',
    mode: 'inline',
    summary: 'SIGSTOP one worker for 3 leases, then SIGCONT: its late acks must not count',
  },
  'cut-connections': {
    name: 'cut-connections',
    mode: 'inline',
    needs: 'proxy',
    summary: 'reset every worker connection (TCP RST through a loopback proxy) mid-load',
  },
  'silent-connection': {
    name: 'silent-connection',
    mode: 'inline',
    needs: 'proxy',
    summary: "one worker's link goes silent for 3 leases (sockets stay open), then heals",
  },
  'server-restart': {
    name: 'server-restart',
    mode: 'inline',
    needs: 'restart-cmd',
    summary: 'run --restart-cmd (restart the server) under load; workers must reconnect',
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}
