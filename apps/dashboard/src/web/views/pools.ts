import type { GroupView, LiveEvent, PoolView } from '../../shared/api-types.js';
import { fill, h } from '../dom.js';
import { bytes, count, duration, relative, when } from '../format.js';
import { href } from '../routes.js';
import type { View, ViewContext } from './view.js';

function group(g: GroupView, queueLink: (q: string) => HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'group' },
    h(
      'h3',
      null,
      `${g.name} `,
      h('small', null, `${g.mode} · queues: `),
      ...g.queues.flatMap((q, i) => (i ? [', ', queueLink(q)] : [queueLink(q)])),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'slots' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { class: 'num' }, 'slot'),
            h('th', null, 'state'),
            h('th', null, 'queue'),
            h('th', null, 'job'),
            h('th', { class: 'num opt' }, 'pid'),
            h('th', { class: 'opt' }, 'since'),
            h('th', { class: 'num' }, 'jobs done'),
          ),
        ),
        h(
          'tbody',
          null,
          ...g.slots.map((s) =>
            h(
              'tr',
              { class: `slot-${s.state}` },
              h('td', { class: 'num' }, String(s.index)),
              h('td', null, h('span', { class: `slot-state slot-state-${s.state}` }, s.state)),
              h('td', null, s.queue ?? ''),
              h(
                'td',
                { class: 'mono' },
                s.jobId && s.queue ? h('a', { href: href.job(s.queue, s.jobId) }, s.jobId) : '',
              ),
              h('td', { class: 'num opt' }, s.pid === undefined ? '' : String(s.pid)),
              h('td', { class: 'opt', title: when(s.since) }, relative(s.since)),
              h('td', { class: 'num' }, count(s.jobsDone)),
            ),
          ),
        ),
      ),
    ),
    g.workers.length > 0
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'workers' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', { class: 'num' }, 'worker pid'),
                h('th', null, 'state'),
                h('th', { class: 'num' }, 'jobs done'),
                h('th', { class: 'num' }, 'memory (RSS)'),
                h('th', { class: 'opt' }, 'started'),
              ),
            ),
            h(
              'tbody',
              null,
              ...g.workers.map((w) =>
                h(
                  'tr',
                  null,
                  h('td', { class: 'num' }, String(w.pid)),
                  h('td', null, w.state),
                  h('td', { class: 'num' }, count(w.jobsDone)),
                  h('td', { class: 'num' }, w.rssBytes === undefined ? '—' : bytes(w.rssBytes)),
                  h('td', { class: 'opt', title: when(w.startedAt) }, relative(w.startedAt)),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

function card(pool: PoolView): HTMLElement {
  const head = h('h2', null, h('span', { class: 'mono' }, pool.url));
  if (!pool.ok || !pool.status) {
    return h(
      'article',
      { class: 'pool pool-down', data: { pool: pool.id } },
      head,
      h(
        'p',
        { class: 'error' },
        pool.fetchedAt === null ? 'not fetched yet' : `unreachable: ${pool.error ?? 'unknown error'}`,
      ),
    );
  }
  const s = pool.status;
  const queueLink = (q: string) => h('a', { href: href.queue(q) }, q);
  return h(
    'article',
    { class: 'pool', data: { pool: pool.id } },
    head,
    h(
      'p',
      { class: 'scoreboard mono', title: 'W busy · _ idle · . no worker yet', data: { test: 'scoreboard' } },
      s.scoreboard,
    ),
    h(
      'dl',
      { class: 'facts facts-inline' },
      h('dt', null, 'state'),
      h('dd', null, s.state),
      h('dt', null, 'pid'),
      h('dd', null, String(s.pid)),
      h('dt', null, 'up'),
      h('dd', null, duration(s.uptimeMs)),
      h('dt', null, 'busy'),
      h('dd', null, `${s.busy}/${s.size}`),
      ...Object.entries(s.totals).flatMap(([k, v]) => [
        h('dt', null, k),
        h('dd', { data: { total: k } }, count(v)),
      ]),
    ),
    ...s.groups.map((g) => group(g, queueLink)),
  );
}

/** The worker pools' scoreboards, read server-side from their status endpoints. */
export function poolsView(ctx: ViewContext): View {
  const list = h('div', { class: 'pools' });
  const el = h('main', { class: 'view view-pools' }, h('h1', null, 'Worker pools'), list);

  function render(pools: readonly PoolView[]): void {
    if (ctx.state.meta.pools.length === 0) {
      fill(
        list,
        h(
          'p',
          { class: 'empty' },
          'No pools configured. Start a runner with a status port (ilkkun work --status-port 9090) and the dashboard with --pool http://127.0.0.1:9090 (repeatable).',
        ),
      );
      return;
    }
    fill(list, ...pools.map(card));
  }

  render(ctx.state.pools);
  return { el, update: (event: LiveEvent) => render(event.pools) };
}
