import type { GroupView, PoolStatusView, SlotView, WorkerView } from '../shared/api-types.js';

/**
 * A runner's `/status` JSON comes over the network: it is read field by field into the
 * dashboard's own shape, with strings capped and unknown fields dropped, rather than passed on
 * as it came. Bounded too: a pool with thousands of slots is cut, not streamed whole each tick.
 */
const MAX_TEXT = 500;
const MAX_ITEMS = 1000;

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}
function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value.slice(0, MAX_TEXT) : fallback;
}
function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value.slice(0, MAX_ITEMS) : [];
}

function slot(raw: unknown): SlotView | undefined {
  const s = obj(raw);
  if (!s) return undefined;
  const out: SlotView = {
    index: num(s['index']),
    group: text(s['group']),
    state: s['state'] === 'busy' ? 'busy' : 'idle',
    since: text(s['since']),
    jobsDone: num(s['jobsDone']),
  };
  if (typeof s['queue'] === 'string') out.queue = text(s['queue']);
  if (typeof s['jobId'] === 'string') out.jobId = text(s['jobId']);
  if (typeof s['pid'] === 'number') out.pid = num(s['pid']);
  return out;
}

function worker(raw: unknown): WorkerView | undefined {
  const w = obj(raw);
  if (!w) return undefined;
  const out: WorkerView = {
    pid: num(w['pid']),
    group: text(w['group']),
    state: text(w['state']),
    startedAt: text(w['startedAt']),
    jobsDone: num(w['jobsDone']),
  };
  if (typeof w['rssBytes'] === 'number') out.rssBytes = num(w['rssBytes']);
  return out;
}

function group(raw: unknown): GroupView | undefined {
  const g = obj(raw);
  if (!g) return undefined;
  return {
    name: text(g['name']),
    mode: text(g['mode']),
    queues: list(g['queues'])
      .filter((q): q is string => typeof q === 'string')
      .map((q) => text(q)),
    slots: list(g['slots'])
      .map(slot)
      .filter((s): s is SlotView => s !== undefined),
    workers: list(g['workers'])
      .map(worker)
      .filter((w): w is WorkerView => w !== undefined),
  };
}

/** The runner's status, or undefined when the JSON is not shaped like one. */
export function parsePoolStatus(raw: unknown): PoolStatusView | undefined {
  const s = obj(raw);
  const totals = obj(s?.['totals']);
  if (!s || !totals || !Array.isArray(s['groups'])) return undefined;
  const out: PoolStatusView = {
    pid: num(s['pid']),
    state: text(s['state']),
    uptimeMs: num(s['uptimeMs']),
    busy: num(s['busy']),
    size: num(s['size']),
    scoreboard: text(s['scoreboard']),
    totals: Object.fromEntries(
      Object.entries(totals)
        .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
        .slice(0, 50)
        .map(([k, v]) => [text(k), v as number]),
    ),
    groups: list(s['groups'])
      .map(group)
      .filter((g): g is GroupView => g !== undefined),
  };
  if (typeof s['startedAt'] === 'string') out.startedAt = text(s['startedAt']);
  return out;
}
