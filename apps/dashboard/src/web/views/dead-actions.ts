import type { Features } from '../../shared/api-types.js';
import { jobs, runAction } from '../actions.js';
import { queuePath } from '../api.js';
import { h } from '../dom.js';
import type { Header } from '../header.js';
import { actionButton } from './unsupported.js';

/**
 * The bulk bar over a queue's dead jobs: retry or delete the selected ones, or all of them.
 * "All" is sent as `{"all": true}`, never as an empty selection, and asks for confirmation.
 */
export function deadJobActions(
  header: Header,
  features: Features,
  queue: string,
  ids: readonly string[],
  after: () => void,
): HTMLElement {
  const none = ids.length === 0;
  const path = queuePath(queue);
  return h(
    'div',
    { class: 'bulk' },
    actionButton(
      `Retry selected (${ids.length})`,
      features.retryDead,
      () =>
        void runAction(header, {
          path: `${path}/retry`,
          body: { ids },
          done: (n) => `retried ${jobs(n)}`,
        }).then(after),
      { test: 'retry-selected', disabled: none },
    ),
    actionButton(
      `Delete selected (${ids.length})`,
      features.deleteJobs,
      () =>
        void runAction(header, {
          path: `${path}/delete`,
          body: { state: 'dead', ids },
          confirm: `Delete ${jobs(ids.length)} for good?`,
          done: (n) => `deleted ${jobs(n)}`,
        }).then(after),
      { danger: true, test: 'delete-selected', disabled: none },
    ),
    actionButton(
      'Retry all',
      features.retryDead,
      () =>
        void runAction(header, {
          path: `${path}/retry`,
          body: { all: true },
          confirm: `Retry every dead job of ${queue}?`,
          done: (n) => `retried ${jobs(n)}`,
        }).then(after),
      { test: 'retry-all' },
    ),
    actionButton(
      'Delete all',
      features.deleteJobs,
      () =>
        void runAction(header, {
          path: `${path}/delete`,
          body: { state: 'dead', all: true },
          confirm: `Delete every dead job of ${queue} for good?`,
          done: (n) => `deleted ${jobs(n)}`,
        }).then(after),
      { danger: true, test: 'delete-all' },
    ),
  );
}
