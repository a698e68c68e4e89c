import type { HistoryResponse, LiveEvent, MetaResponse, PoolsResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { fill, h } from './dom.js';
import { createHeader } from './header.js';
import { connectLive } from './live.js';
import { describeError, mountNotices } from './notify.js';
import { href, parseRoute } from './routes.js';
import { type AppState, addSample } from './state.js';
import { adoptTokenFromFragment } from './token.js';
import { jobView } from './views/job.js';
import { overviewView } from './views/overview.js';
import { poolsView } from './views/pools.js';
import { queueView } from './views/queue.js';
import type { View, ViewContext } from './views/view.js';

async function boot(root: HTMLElement): Promise<void> {
  adoptTokenFromFragment();
  const [meta, history, pools] = await Promise.all([
    getJson<MetaResponse>('/api/meta'),
    getJson<HistoryResponse>('/api/history'),
    getJson<PoolsResponse>('/api/pools'),
  ]);
  const state: AppState = { meta, history: history.samples, pools: pools.pools };
  let view: View | undefined;
  const header = createHeader(meta, () => view?.authChanged?.());
  const ctx: ViewContext = { state, header };
  const outlet = h('div', { class: 'outlet' });
  const notices = h('div', { class: 'notices', aria: { live: 'polite' } });
  mountNotices(notices);
  fill(
    root,
    header.el,
    outlet,
    notices,
    h(
      'footer',
      { class: 'foot' },
      `ilkkun dashboard ${meta.version} · samples every ${meta.sampleIntervalMs / 1000}s`,
    ),
  );

  function show(): void {
    const route = parseRoute(location.hash);
    switch (route.view) {
      case 'overview':
        view = overviewView(ctx);
        break;
      case 'pools':
        view = poolsView(ctx);
        break;
      case 'queue':
        view = queueView(ctx, route);
        break;
      case 'job':
        view = jobView(ctx, route.queue, route.id);
        break;
      case 'missing':
        view = {
          el: h(
            'main',
            { class: 'view' },
            h('h1', null, 'Not found'),
            h('p', null, h('a', { href: href.overview() }, 'back to the queues')),
          ),
          update: () => {},
        };
        break;
    }
    fill(outlet, view.el);
    for (const link of root.querySelectorAll('nav.nav a')) {
      const active = (route.view === 'pools') === (link.getAttribute('href') === href.pools());
      link.classList.toggle('active', active);
    }
  }

  window.addEventListener('hashchange', show);
  show();
  connectLive(
    (event: LiveEvent) => {
      header.setBackendError(event.sample.error);
      if (!addSample(state, event)) return;
      header.setLive('live', event.sample.t);
      view?.update(event);
    },
    (live) => header.setLive(live),
  );
}

const root = document.getElementById('app');
if (root) {
  boot(root).catch((err: unknown) => {
    fill(
      root,
      h(
        'main',
        { class: 'view' },
        h('h1', null, 'The dashboard could not start'),
        h('p', { class: 'error' }, describeError(err)),
      ),
    );
  });
}
