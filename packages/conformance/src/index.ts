export type { SuiteContext } from './context.js';
export { UNSUPPORTED_PREFIX } from './contract-test.js';
export { describeConformance } from './describe-conformance.js';
export { eventually } from './eventually.js';
export type { ConformanceOptions } from './options.js';
export type { CaseStatus, ConformanceCase, ConformanceReport } from './report.js';
export { formatMatrix, formatReport } from './report.js';
