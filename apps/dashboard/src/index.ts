export { describeFeatures, type QueuePauser, queuePauser } from './server/capabilities.js';
export { type ApiErrorCode, mapError, STATUS_BY_CORE_CODE } from './server/http-errors.js';
export { isLoopbackHost } from './server/loopback.js';
export {
  type DashboardOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SAMPLE_INTERVAL_MS,
  resolveOptions,
} from './server/options.js';
export { CONTENT_SECURITY_POLICY } from './server/security-headers.js';
export { type Dashboard, startDashboard } from './server/start.js';
export type * from './shared/api-types.js';
export { counterDelta, countRateSeries, depthSeries, poolRateSeries, recentRate } from './shared/rates.js';
