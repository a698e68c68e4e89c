import type { JobStateName } from '../../shared/api-types.js';
import { countRateSeries, depthSeries, type Point, poolRateSeries } from '../../shared/rates.js';
import { lineChart, type Series } from '../chart.js';
import { h } from '../dom.js';
import { type AppState, chartSpanMs } from '../state.js';

const DEPTH_STATES: readonly JobStateName[] = ['waiting', 'delayed', 'active', 'dead'];

/** Jobs per second done: from the pools' counters, else from the `completed` count where the backend keeps completed jobs. */
export function completedRate(
  state: AppState,
  queue?: string,
): { points: Point[] | undefined; source: string } {
  const fromPools = poolRateSeries(state.history, 'completed', queue);
  if (fromPools) return { points: fromPools, source: 'pools' };
  const fromCounts = countRateSeries(state.history, 'completed', queue);
  if (fromCounts.some((p) => p.v > 0)) return { points: fromCounts, source: 'counts' };
  return { points: undefined, source: 'none' };
}

/** The two charts of the overview and of a queue's page: throughput (rates) and depth (counts). */
export function chartsFor(state: AppState, queue?: string): HTMLElement {
  const now = state.history.at(-1)?.t ?? Date.now();
  const spanMs = chartSpanMs(state);
  const done = completedRate(state, queue);
  const throughput: Series[] = [];
  if (done.points) throughput.push({ label: 'completed', tone: 's-completed', points: done.points });
  const failed = poolRateSeries(state.history, 'failed', queue);
  if (failed) throughput.push({ label: 'failed attempts', tone: 's-failed', points: failed });
  throughput.push({ label: 'dead', tone: 's-dead', points: countRateSeries(state.history, 'dead', queue) });
  const caption =
    done.source === 'none'
      ? h(
          'span',
          { class: 'chart-note' },
          `Completions need a worker pool's counters (start with --pool http://127.0.0.1:PORT) or a backend that keeps completed jobs; the ${state.meta.backend.name} backend deletes them.`,
        )
      : h(
          'span',
          { class: 'chart-note' },
          done.source === 'pools'
            ? 'completions from the worker pools'
            : 'completions from the completed count',
        );
  return h(
    'div',
    { class: 'charts' },
    lineChart({ title: 'Throughput (jobs/s)', caption, series: throughput, spanMs, now, perSecond: true }),
    lineChart({
      title: 'Jobs by state',
      series: DEPTH_STATES.map((s) => ({
        label: s,
        tone: `s-${s}`,
        points: depthSeries(state.history, s, queue),
      })),
      spanMs,
      now,
    }),
  );
}
