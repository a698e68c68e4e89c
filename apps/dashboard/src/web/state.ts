import type { LiveEvent, MetaResponse, PoolView, Sample } from '../shared/api-types.js';

/** What every view reads: the server's description of itself, the sample history and the pools. */
export interface AppState {
  meta: MetaResponse;
  /** oldest first, at most `meta.historySize` samples (the server's ring, continued by live events) */
  history: Sample[];
  pools: PoolView[];
}

/** Append a live sample; false when it is one the history already has (the stream repeats the last on connect). */
export function addSample(state: AppState, event: LiveEvent): boolean {
  const last = state.history.at(-1);
  if (last && event.sample.t <= last.t) return false;
  state.history.push(event.sample);
  const extra = state.history.length - state.meta.historySize;
  if (extra > 0) state.history.splice(0, extra);
  state.pools = event.pools;
  return true;
}

/** The time span the charts show: the whole ring once full. */
export function chartSpanMs(state: AppState): number {
  return state.meta.sampleIntervalMs * Math.max(1, state.meta.historySize - 1);
}
