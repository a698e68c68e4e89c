import type { JobDetail } from '../../shared/api-types.js';
import { runAction } from '../actions.js';
import { ApiError, getJson, queuePath } from '../api.js';
import { type Child, fill, h } from '../dom.js';
import { bytes, relative, when } from '../format.js';
import { describeError } from '../notify.js';
import { href } from '../routes.js';
import { actionButton } from './unsupported.js';
import type { View, ViewContext } from './view.js';

/** Pretty JSON for a `<pre>`: indentation only, the text itself untouched (it goes in as text). */
function pretty(detail: JobDetail): string {
  return detail.payload.ok ? JSON.stringify(detail.payload.json, null, 2) : detail.payload.raw;
}

function fact(label: string, value: Child, title?: string): HTMLElement[] {
  return [h('dt', null, label), h('dd', title === undefined ? null : { title }, value)];
}

/** One job: its facts, payload, last error with stack, and the actions its state allows. */
export function jobView(ctx: ViewContext, queue: string, id: string): View {
  const { state: app, header } = ctx;
  const features = app.meta.features;
  const body = h('div', { class: 'job-body' }, h('p', { class: 'empty' }, 'loading…'));
  const el = h(
    'main',
    { class: 'view view-job' },
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: href.overview() }, 'Queues'),
      ' / ',
      h('a', { href: href.queue(queue) }, queue),
      ' / ',
    ),
    body,
  );
  let lastJson = '';
  let detail: JobDetail | undefined;

  function actions(job: JobDetail): HTMLElement | null {
    if (!header.canWrite() || job.state === 'active' || job.state === null) return null;
    const buttons: HTMLElement[] = [];
    if (job.state === 'dead') {
      buttons.push(
        actionButton(
          'Retry',
          features.retryDead,
          () =>
            void runAction(header, {
              path: `${queuePath(queue)}/retry`,
              body: { ids: [id] },
              done: () => `job ${id} retried`,
            }).then(load),
          { test: 'retry-job' },
        ),
      );
    }
    const state = job.state;
    buttons.push(
      actionButton(
        'Delete',
        features.deleteJobs,
        () =>
          void runAction(header, {
            path: `${queuePath(queue)}/delete`,
            body: { state, ids: [id] },
            confirm: `Delete job ${id} for good?`,
            done: () => `job ${id} deleted`,
          }).then((ok) => {
            if (ok) location.hash = href.queue(queue, state);
          }),
        { danger: true, test: 'delete-job' },
      ),
    );
    return h('div', { class: 'actions' }, ...buttons);
  }

  function render(job: JobDetail): void {
    const err = job.lastError;
    fill(
      body,
      h(
        'div',
        { class: 'title-row' },
        h('h1', { class: 'job-id' }, 'Job ', h('span', { class: 'mono' }, job.id)),
        h(
          'span',
          { class: `state-badge s-${job.state ?? 'unknown'}`, data: { test: 'job-state' } },
          job.state ?? 'unknown',
        ),
        actions(job),
      ),
      h(
        'section',
        { class: 'panel' },
        h(
          'dl',
          { class: 'facts' },
          ...fact('queue', job.queue),
          ...fact('attempts', `${job.attemptsMade} of ${job.maxAttempts}`),
          ...fact('priority', String(job.priority)),
          ...fact('created', `${when(job.createdAt)} (${relative(job.createdAt)})`),
          ...fact('run at', `${when(job.runAt)} (${relative(job.runAt)})`),
          ...(job.uniqueKey !== undefined ? fact('unique key', job.uniqueKey) : []),
          ...(job.backoff !== undefined ? fact('backoff', JSON.stringify(job.backoff)) : []),
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', null, 'Payload ', h('small', null, bytes(job.payloadBytes))),
        job.payload.ok
          ? null
          : h('p', { class: 'error' }, `stored text is not JSON (${job.payload.error}); shown as stored`),
        h('pre', { class: 'payload-full', data: { test: 'payload' } }, pretty(job)),
      ),
      err
        ? h(
            'section',
            { class: 'panel panel-error' },
            h('h2', null, 'Last error'),
            h(
              'p',
              { class: 'err-head' },
              h('strong', null, err.name ?? 'Error'),
              ': ',
              h('span', { data: { test: 'error-message' } }, err.message),
            ),
            h('p', { class: 'muted' }, `attempt ${err.attempt} · ${when(err.at)} (${relative(err.at)})`),
            err.stack ? h('pre', { class: 'stack', data: { test: 'stack' } }, err.stack) : null,
          )
        : null,
    );
  }

  async function load(): Promise<void> {
    if (!features.jobDetail.supported) {
      fill(
        body,
        h('p', { class: 'unsupported-note' }, features.jobDetail.reason ?? 'showing a job is not supported'),
      );
      return;
    }
    try {
      const next = await getJson<JobDetail>(`${queuePath(queue)}/jobs/${encodeURIComponent(id)}`);
      const json = JSON.stringify(next);
      // unchanged: keep the DOM (and any text the person has selected in it)
      if (json === lastJson) return;
      lastJson = json;
      detail = next;
      render(next);
    } catch (err) {
      lastJson = '';
      detail = undefined;
      if (err instanceof ApiError && err.status === 404) {
        fill(
          body,
          h('h1', { class: 'job-id' }, 'Job ', h('span', { class: 'mono' }, id)),
          h(
            'p',
            { class: 'empty', data: { test: 'job-gone' } },
            'This job is not in the queue (any more): it completed, or was deleted or purged.',
          ),
          h('p', null, h('a', { href: href.queue(queue) }, `back to ${queue}`)),
        );
      } else {
        fill(body, h('p', { class: 'error' }, describeError(err)));
      }
    }
  }

  void load();
  return {
    el,
    update: () => void load(),
    authChanged: () => {
      if (detail) render(detail);
    },
  };
}
