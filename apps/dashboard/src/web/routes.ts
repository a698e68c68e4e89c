import type { JobStateName } from '../shared/api-types.js';

/** Views live in the URL fragment, so reloads, bookmarks and the back button work without a server route per view. */
export type Route =
  | { view: 'overview' }
  | { view: 'pools' }
  | { view: 'queue'; queue: string; state: JobStateName; offset: number }
  | { view: 'job'; queue: string; id: string }
  | { view: 'missing'; hash: string };

export const STATES: readonly JobStateName[] = ['waiting', 'delayed', 'active', 'completed', 'dead'];

function isState(value: string | null): value is JobStateName {
  return value !== null && (STATES as readonly string[]).includes(value);
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { view: 'overview' };
  if (parts.length === 1 && parts[0] === 'pools') return { view: 'pools' };
  if (parts[0] === 'queues' && parts.length >= 2) {
    const queue = decode(parts[1]!);
    if (queue !== undefined && parts.length === 2) {
      const state = query.get('state');
      const offset = Number(query.get('offset') ?? 0);
      return {
        view: 'queue',
        queue,
        state: isState(state) ? state : 'waiting',
        offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
      };
    }
    const id = parts.length === 4 && parts[2] === 'jobs' ? decode(parts[3]!) : undefined;
    if (queue !== undefined && id !== undefined) return { view: 'job', queue, id };
  }
  return { view: 'missing', hash };
}

export const href = {
  overview: () => '#/',
  pools: () => '#/pools',
  queue: (queue: string, state: JobStateName = 'waiting', offset = 0) =>
    `#/queues/${encodeURIComponent(queue)}?state=${state}${offset > 0 ? `&offset=${offset}` : ''}`,
  job: (queue: string, id: string) => `#/queues/${encodeURIComponent(queue)}/jobs/${encodeURIComponent(id)}`,
};
