import type { Counts, JobListResponse, JobSummary, LiveEvent, QueueSummary } from '../../shared/api-types.js';
import { own } from '../../shared/rates.js';
import { jobs, runAction } from '../actions.js';
import { getJson, queuePath } from '../api.js';
import { fill, h } from '../dom.js';
import { count, relative, when } from '../format.js';
import { describeError } from '../notify.js';
import { href, STATES } from '../routes.js';
import { chartsFor } from './charts.js';
import { deadJobActions } from './dead-actions.js';
import { actionButton } from './unsupported.js';
import type { View, ViewContext } from './view.js';

export interface QueueRoute {
  queue: string;
  state: JobSummary['state'] & string;
  offset: number;
}

const PAGE = 20;

/** One queue: its counts per state, its charts, and its jobs of one state, a page at a time. */
export function queueView(ctx: ViewContext, route: QueueRoute): View {
  const { state: app, header } = ctx;
  const { queue, state, offset } = route;
  const features = app.meta.features;
  const selected = new Set<string>();
  let counts: Counts | null = null;
  let paused: boolean | null = null;
  let page: JobListResponse | undefined;
  let listError: string | undefined;
  let lastKey = '';

  const actions = h('div', { class: 'actions' });
  const tabs = h('nav', { class: 'tabs', aria: { label: 'job states' } });
  const charts = h('section', { class: 'chart-row' });
  const list = h('section', { class: 'panel' });
  const el = h(
    'main',
    { class: 'view view-queue' },
    h('p', { class: 'crumbs' }, h('a', { href: href.overview() }, 'Queues'), ' / '),
    h('div', { class: 'title-row' }, h('h1', { class: 'queue-name' }, queue), actions),
    tabs,
    charts,
    list,
  );

  const writable = () => header.canWrite();
  const refresh = () => void loadPage();

  function renderActions(): void {
    if (!writable()) {
      fill(actions);
      return;
    }
    const pauseLabel = paused ? 'Resume' : 'Pause';
    fill(
      actions,
      actionButton(
        pauseLabel,
        features.pause,
        () =>
          void runAction(header, {
            path: `${queuePath(queue)}/${paused ? 'resume' : 'pause'}`,
            body: {},
            done: () => `${queue} ${paused ? 'resumed' : 'paused'}`,
          }).then(() => loadSummary()),
      ),
      actionButton(
        'Purge…',
        features.purge,
        () => {
          const typed = window.prompt(
            `Purge deletes every job of ${queue}, running ones included. Type the queue name to confirm:`,
          );
          if (typed !== queue) return;
          void runAction(header, {
            path: `${queuePath(queue)}/purge`,
            body: { confirm: queue },
            done: (n) => `purged ${jobs(n)} from ${queue}`,
          }).then(refresh);
        },
        { danger: true, test: 'purge' },
      ),
    );
  }

  function renderTabs(): void {
    fill(
      tabs,
      ...STATES.map((s) =>
        h(
          'a',
          {
            href: href.queue(queue, s),
            class: `tab${s === state ? ' tab-active' : ''}`,
            data: { state: s },
            aria: s === state ? { current: 'page' } : {},
          },
          s,
          h(
            'span',
            { class: `tab-count${s === 'dead' && (counts?.dead ?? 0) > 0 ? ' alert' : ''}` },
            counts ? count(counts[s]) : '—',
          ),
        ),
      ),
    );
  }

  function bulkBar(): HTMLElement | null {
    if (!writable() || state !== 'dead') return null;
    return deadJobActions(header, features, queue, [...selected], () => {
      selected.clear();
      refresh();
    });
  }

  function row(job: JobSummary): HTMLElement {
    const check =
      state === 'dead' && writable()
        ? h(
            'td',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              checked: selected.has(job.id),
              aria: { label: `select job ${job.id}` },
              onChange: (e) => {
                if ((e.target as HTMLInputElement).checked) selected.add(job.id);
                else selected.delete(job.id);
                renderList();
              },
            }),
          )
        : null;
    return h(
      'tr',
      { data: { job: job.id } },
      check,
      h('td', { class: 'mono' }, h('a', { href: href.job(queue, job.id) }, job.id)),
      h('td', { class: 'opt', title: when(job.createdAt) }, relative(job.createdAt)),
      h('td', { class: 'opt', title: when(job.runAt) }, relative(job.runAt)),
      h('td', { class: 'num' }, `${job.attemptsMade}/${job.maxAttempts}`),
      h('td', { class: 'num opt' }, String(job.priority)),
      h('td', { class: 'payload mono' }, job.payloadPreview),
      h('td', { class: 'err' }, job.lastError ? job.lastError.message : ''),
    );
  }

  function renderList(): void {
    if (!features.list.supported) {
      fill(
        list,
        h('p', { class: 'unsupported-note' }, features.list.reason ?? 'listing jobs is not supported'),
      );
      return;
    }
    if (listError !== undefined) {
      fill(list, h('p', { class: 'error' }, listError));
      return;
    }
    if (!page) {
      fill(list, h('p', { class: 'empty' }, 'loading…'));
      return;
    }
    const total = page.total;
    const shown = page.jobs.length;
    const from = shown === 0 ? 0 : page.offset + 1;
    const to = page.offset + shown;
    const hasNext = total === null ? shown === page.limit : to < total;
    const pager = h(
      'div',
      { class: 'pager' },
      page.offset > 0
        ? h(
            'a',
            { class: 'btn btn-small', href: href.queue(queue, state, Math.max(0, page.offset - PAGE)) },
            '← Newer',
          )
        : null,
      h(
        'span',
        { class: 'range' },
        shown === 0 ? `no ${state} jobs` : `${from}–${to}${total === null ? '' : ` of ${count(total)}`}`,
      ),
      hasNext
        ? h('a', { class: 'btn btn-small', href: href.queue(queue, state, page.offset + PAGE) }, 'Older →')
        : null,
    );
    if (shown === 0) {
      fill(list, bulkBar(), pager);
      return;
    }
    const allBox =
      state === 'dead' && writable()
        ? h(
            'th',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              checked: page.jobs.every((j) => selected.has(j.id)),
              aria: { label: 'select all on this page' },
              onChange: (e) => {
                const on = (e.target as HTMLInputElement).checked;
                for (const j of page?.jobs ?? []) {
                  if (on) selected.add(j.id);
                  else selected.delete(j.id);
                }
                renderList();
              },
            }),
          )
        : null;
    fill(
      list,
      bulkBar(),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'jobs' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              allBox,
              h('th', null, 'id'),
              h('th', { class: 'opt' }, 'created'),
              h('th', { class: 'opt' }, 'run at'),
              h('th', { class: 'num' }, 'attempts'),
              h('th', { class: 'num opt' }, 'priority'),
              h('th', null, 'payload'),
              h('th', null, 'last error'),
            ),
          ),
          h('tbody', null, ...page.jobs.map(row)),
        ),
      ),
      pager,
    );
  }

  async function loadSummary(): Promise<void> {
    try {
      const summary = await getJson<QueueSummary>(queuePath(queue));
      counts = summary.counts;
      paused = summary.paused;
    } catch (err) {
      listError = describeError(err);
    }
    renderTabs();
    renderActions();
  }

  async function loadPage(): Promise<void> {
    if (!features.list.supported) return renderList();
    try {
      page = await getJson<JobListResponse>(
        `${queuePath(queue)}/jobs?state=${state}&offset=${offset}&limit=${PAGE}`,
      );
      listError = undefined;
      // a selected job that left this state (retried, deleted) is no longer selectable
      const here = new Set(page.jobs.map((j) => j.id));
      for (const id of selected) if (!here.has(id)) selected.delete(id);
    } catch (err) {
      listError = describeError(err);
    }
    renderList();
  }

  renderTabs();
  renderActions();
  fill(charts, chartsFor(app, queue));
  renderList();
  void loadSummary();
  void loadPage();

  return {
    el,
    update(event: LiveEvent) {
      if (event.sample.error === undefined) {
        counts = own(event.sample.queues, queue) ?? {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          dead: 0,
        };
        renderTabs();
      }
      fill(charts, chartsFor(app, queue));
      // Reload the page of jobs only when the queue changed: cheap when idle, prompt when busy.
      const key = JSON.stringify(counts);
      if (key !== lastKey) {
        lastKey = key;
        void loadPage();
      }
    },
    authChanged() {
      renderActions();
      renderList();
    },
  };
}
