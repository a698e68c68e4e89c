import { assertJobState, assertQueueName, type JobState, pageBounds } from '@ilkkun/core';
import { HttpError } from './http-errors.js';

/** One page of a job list in the page; the API accepts up to core's own ceiling. */
export const DEFAULT_LIST_LIMIT = 20;
export const MAX_IDS_PER_ACTION = 1000;
const JOB_ID_MAX = 200;

function decode(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError('BAD_REQUEST', `${what} is not valid percent-encoding`);
  }
}

/** A queue name from the path, checked by core (400 INVALID_QUEUE_NAME) before any backend sees it. */
export function queueParam(raw: string): string {
  const name = decode(raw, 'the queue name');
  assertQueueName(name);
  return name;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Job ids are the backend's own strings; only their size and printability are checked here. */
export function isPlausibleJobId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= JOB_ID_MAX && !hasControlCharacter(id);
}

export function jobIdParam(raw: string): string {
  const id = decode(raw, 'the job id');
  if (!isPlausibleJobId(id))
    throw new HttpError('BAD_REQUEST', `a job id is 1–${JOB_ID_MAX} printable characters`);
  return id;
}

/** `?state=` (default waiting), checked by core (400 CONFIG for an unknown state). */
export function stateParam(raw: string | null, allowActive = true): JobState {
  const state = raw ?? 'waiting';
  assertJobState(state, allowActive);
  return state;
}

function optionalNumber(raw: string | null): number | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  return Number(raw);
}

/** `?offset=&limit=` through core's `pageBounds` (400 CONFIG when out of range), so every backend pages alike. */
export function pageParams(query: URLSearchParams): { offset: number; limit: number } {
  const offset = optionalNumber(query.get('offset'));
  const limit = optionalNumber(query.get('limit')) ?? DEFAULT_LIST_LIMIT;
  return pageBounds({ ...(offset === undefined ? {} : { offset }), limit });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which jobs an action targets: these ids, or — said explicitly — all of them. */
export type Selection = { all: true } | { ids: string[] };

/**
 * `{ "ids": [...] }` or `{ "all": true }`. "All" is never implied by a missing list, so a
 * client bug that loses the selection cannot turn into "retry/delete everything".
 */
export function selectionBody(body: unknown): Selection {
  if (!isRecord(body)) throw new HttpError('BAD_REQUEST', 'the body must be a JSON object');
  if (body['all'] === true) {
    if (body['ids'] !== undefined)
      throw new HttpError('BAD_REQUEST', 'give either "ids" or "all": true, not both');
    return { all: true };
  }
  const ids = body['ids'];
  if (!Array.isArray(ids) || ids.length === 0) {
    throw new HttpError('BAD_REQUEST', 'give "ids": a non-empty array of job ids, or "all": true');
  }
  if (ids.length > MAX_IDS_PER_ACTION) {
    throw new HttpError('BAD_REQUEST', `at most ${MAX_IDS_PER_ACTION} ids per request`);
  }
  const out: string[] = [];
  for (const id of ids) {
    if (!isPlausibleJobId(id))
      throw new HttpError('BAD_REQUEST', `every id must be 1–${JOB_ID_MAX} printable characters`);
    out.push(id);
  }
  return { ids: out };
}

/** The state a delete targets: any but active (an active job is leased; purge is the tool for those). */
export function deleteStateBody(body: unknown): Exclude<JobState, 'active'> {
  const state = isRecord(body) ? body['state'] : undefined;
  const checked = stateParam(typeof state === 'string' ? state : String(state), false);
  return checked as Exclude<JobState, 'active'>;
}

/** Purge deletes everything, active jobs included: the body must repeat the queue's name. */
export function purgeConfirmation(body: unknown, queue: string): void {
  if (!isRecord(body) || body['confirm'] !== queue) {
    throw new HttpError('BAD_REQUEST', 'purging needs {"confirm": "<the queue name>"}');
  }
}
