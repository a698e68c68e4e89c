export type { BackoffFn, DefaultSettings, QueueSettings, RunnerMode, RunnerSettings } from './config.js';
export { defaultSettings } from './config.js';
export {
  JobReleasedError,
  JobTimeoutError,
  type SerializedError,
  UnrecoverableError,
  WorkerCrashedError,
  WorkerStartError,
} from './errors.js';
export type {
  EventName,
  LeaseLostDuring,
  Listener,
  RunnerEvents,
  WorkerInfo,
  WorkerState,
  WorkerStopReason,
} from './events.js';
export type { Handler, HandlerModuleRef, HandlerSpec, JobContext } from './handler.js';
export type { RunnerHooks, WorkOutcome } from './hooks.js';
export { attachLiveView, type LiveViewOptions } from './live-view.js';
export { attachLogReporter, type LogReporterOptions } from './log-reporter.js';
export { attachReporter, type ReporterKind } from './reporter.js';
export type { FailureDecision } from './retry-policy.js';
export { decideFailure, toJobError } from './retry-policy.js';
export {
  CONFIG_FILE_NAMES,
  defineConfig,
  type IlkkunConfig,
  loadConfig,
  type RunFromConfigOptions,
  runFromConfig,
} from './run-from-config.js';
export { createRunner, Runner, type RunnerOptions, type StopOptions } from './runner.js';
export type { GroupStatus, SlotStatus, StatusSnapshot, Totals, WorkerStatus } from './scoreboard.js';
export { scoreboardLine } from './scoreboard.js';
export { installSignalHandlers, type SignalOptions } from './shutdown.js';
export { STATUS_HOST } from './status-server.js';
