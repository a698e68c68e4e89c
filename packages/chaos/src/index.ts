export type { ChaosOptions, ChaosProgress, ResolvedOptions } from './options.js';
export { resolveOptions } from './options.js';
export { createProgressPrinter, type ProgressPrinter } from './progress.js';
export { FaultProxy } from './proxy.js';
export type { ChaosReport, ScenarioResult, ScenarioStatus } from './report.js';
export { formatChaosReport } from './report.js';
export { runChaos } from './run.js';
export {
  isScenarioName,
  SCENARIO_NAMES,
  SCENARIOS,
  type ScenarioName,
  type ScenarioSpec,
} from './scenarios.js';
