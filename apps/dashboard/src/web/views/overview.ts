import type { Counts, JobStateName, LiveEvent, QueuesResponse } from '../../shared/api-types.js';
import { own, recentRate } from '../../shared/rates.js';
import { getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { count, rate } from '../format.js';
import { describeError } from '../notify.js';
import { href, STATES } from '../routes.js';
import { chartsFor, completedRate } from './charts.js';
import type { View, ViewContext } from './view.js';

interface Row {
  name: string;
  counts: Counts | null;
}

/** The landing page: totals, the two charts, and one row per queue. */
export function overviewView(ctx: ViewContext): View {
  const { state } = ctx;
  const tiles = h('section', { class: 'tiles', aria: { label: 'totals' } });
  const charts = h('section', { class: 'chart-row' });
  const table = h('section', { class: 'panel' });
  const el = h('main', { class: 'view view-overview' }, h('h1', null, 'Queues'), tiles, charts, table);
  let rows: Row[] | undefined;

  function render(): void {
    const features = state.meta.features;
    if (!features.counts.supported) {
      fill(tiles);
      fill(charts, chartsFor(state));
      fill(
        table,
        h('p', { class: 'unsupported-note' }, features.counts.reason ?? 'counting jobs is not supported'),
      );
      return;
    }
    const list = rows ?? [];
    const totals: Counts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };
    for (const r of list) for (const s of STATES) totals[s] += r.counts?.[s] ?? 0;
    const done = recentRate(completedRate(state).points);
    fill(
      tiles,
      ...STATES.map((s) =>
        h(
          'div',
          { class: `tile tile-${s}`, data: { state: s } },
          h('span', { class: 'tile-label' }, s),
          h('span', { class: 'tile-value' }, count(totals[s])),
        ),
      ),
      h(
        'div',
        { class: 'tile tile-rate' },
        h('span', { class: 'tile-label' }, 'throughput'),
        h('span', { class: 'tile-value', data: { test: 'throughput' } }, rate(done)),
      ),
    );
    fill(charts, chartsFor(state));
    if (list.length === 0) {
      fill(table, h('p', { class: 'empty' }, rows ? 'No queue holds jobs right now.' : 'loading…'));
      return;
    }
    const cell = (r: Row, s: JobStateName) => {
      const n = r.counts?.[s] ?? 0;
      return h(
        'td',
        {
          class: `num${n === 0 ? ' zero' : ''}${s === 'dead' && n > 0 ? ' alert' : ''}`,
          data: { queue: r.name, state: s },
        },
        h('a', { href: href.queue(r.name, s) }, count(n)),
      );
    };
    fill(
      table,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'queues' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'queue'),
              ...STATES.map((s) =>
                h('th', { class: `num${s === 'completed' || s === 'delayed' ? ' opt' : ''}` }, s),
              ),
              h('th', { class: 'num' }, 'completed/s'),
            ),
          ),
          h(
            'tbody',
            null,
            ...list.map((r) =>
              h(
                'tr',
                { data: { queue: r.name } },
                h('th', { class: 'qname' }, h('a', { href: href.queue(r.name) }, r.name)),
                ...STATES.map((s) => {
                  const td = cell(r, s);
                  if (s === 'completed' || s === 'delayed') td.classList.add('opt');
                  return td;
                }),
                h('td', { class: 'num' }, rate(recentRate(completedRate(state, r.name).points))),
              ),
            ),
          ),
        ),
      ),
    );
  }

  // Fresh counts on arrival (the page is never stale when opened), then the live samples.
  getJson<QueuesResponse>('/api/queues')
    .then((res) => {
      rows = res.queues.map((q) => ({ name: q.name, counts: q.counts }));
      render();
    })
    .catch((err: unknown) => fill(table, h('p', { class: 'error' }, describeError(err))));
  render();

  return {
    el,
    update(event: LiveEvent) {
      if (event.sample.error === undefined) {
        rows = Object.keys(event.sample.queues)
          .sort()
          .map((name) => ({ name, counts: own(event.sample.queues, name) ?? null }));
      }
      render();
    },
  };
}
