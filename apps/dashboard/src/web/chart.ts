import type { Point } from '../shared/rates.js';
import { type Child, h, svg } from './dom.js';
import { compact, duration } from './format.js';

export interface Series {
  label: string;
  /** a CSS class that colours the line and its legend swatch (see style.css: .s-waiting, …) */
  tone: string;
  points: readonly Point[];
}

export interface ChartOptions {
  title: string;
  /** shown under the title: what the numbers are and where they come from */
  caption?: Child;
  series: readonly Series[];
  /** the time span on the x axis, ending now */
  spanMs: number;
  now: number;
  /** y values are rates: labels say "/s" */
  perSecond?: boolean;
  /** said instead of a chart when no series has points */
  empty?: string;
}

const W = 640;
const H = 200;
const PAD = { left: 44, right: 12, top: 10, bottom: 22 };

/** 1, 2 or 5 × 10^n: steps that make grid labels read well. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** The y axis: a round top and a round step (whole numbers for counts), at most 5 intervals. */
function yScale(max: number, integers: boolean): { top: number; step: number } {
  if (max <= 0) return integers ? { top: 1, step: 1 } : { top: 1, step: 0.25 };
  let step = niceStep(max / 4);
  if (integers) step = Math.max(1, step);
  return { top: step * Math.ceil(max / step), step };
}

/**
 * A line chart as SVG: a fixed viewBox scaled to the width of its box (laptop or phone), grid
 * lines, and one polyline per series. Only numbers and the fixed labels above reach the SVG.
 */
export function lineChart(options: ChartOptions): HTMLElement {
  const { series, spanMs, now } = options;
  const x0 = now - spanMs;
  const visible = series.map((s) => ({ ...s, points: s.points.filter((p) => p.t >= x0) }));
  const hasData = visible.some((s) => s.points.length > 0);
  const { top: yMax, step } = yScale(
    Math.max(0, ...visible.flatMap((s) => s.points.map((p) => p.v))),
    !options.perSecond,
  );
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - x0) / spanMs) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;

  const grid: SVGElement[] = [];
  for (let i = 0; i * step <= yMax + step / 2; i++) {
    const v = i * step;
    grid.push(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    grid.push(svg('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, compact(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = x0 + (spanMs / 4) * i;
    const label = i === 4 ? 'now' : `-${duration(now - t)}`;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    grid.push(svg('text', { x: x(t), y: H - 6, class: 'axis', 'text-anchor': anchor }, label));
  }
  const lines = visible
    .filter((s) => s.points.length > 0)
    .map((s) =>
      s.points.length === 1
        ? svg('circle', { cx: x(s.points[0]!.t), cy: y(s.points[0]!.v), r: 2.5, class: `dot ${s.tone}` })
        : svg('polyline', {
            points: s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
            class: `line ${s.tone}`,
          }),
    );
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': options.title },
    ...grid,
    ...lines,
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    ...series.map((s) => {
      const last = s.points.at(-1);
      return h(
        'li',
        null,
        h('span', { class: `swatch ${s.tone}`, aria: { hidden: 'true' } }),
        s.label,
        last
          ? h('span', { class: 'legend-value' }, ` ${compact(last.v)}${options.perSecond ? '/s' : ''}`)
          : null,
      );
    }),
  );
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', null, h('span', { class: 'chart-title' }, options.title), options.caption ?? null),
    hasData ? chart : h('p', { class: 'chart-empty' }, options.empty ?? 'no samples yet'),
    legend,
  );
}
