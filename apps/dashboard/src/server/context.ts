import type { Backend, Inspector } from '@ilkkun/core';
import { UnsupportedFeatureError } from '@ilkkun/core';
import type { Features, MetaResponse } from '../shared/api-types.js';
import type { QueuePauser } from './capabilities.js';
import type { ResolvedOptions } from './options.js';
import type { PoolMonitor } from './pools.js';
import type { Sampler } from './sampler.js';
import type { SseHub } from './sse.js';

/** Everything a route handler may use; built once by `startDashboard`. */
export interface AppContext {
  backend: Backend;
  options: ResolvedOptions;
  features: Features;
  pauser: QueuePauser | undefined;
  sampler: Sampler;
  pools: PoolMonitor;
  hub: SseHub;
  meta: MetaResponse;
}

/**
 * The inspector for a feature the page asked for, or core's UnsupportedFeatureError (→ 501).
 * The page never asks for a feature marked unsupported; this answers API clients that do.
 */
export function inspectorFor(ctx: AppContext, feature: keyof Features): Inspector {
  const support = ctx.features[feature];
  const inspector = ctx.backend.inspector;
  if (!support.supported || !inspector) {
    throw new UnsupportedFeatureError(feature, ctx.backend.name, support.reason);
  }
  return inspector;
}
