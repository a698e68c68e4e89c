import type { JobError, JobRecord } from '@ilkkun/core';
import type { JobDetail, JobSummary, LastErrorView, PayloadView } from '../shared/api-types.js';

/** What a list row shows of a payload: enough to recognise it, little enough for 1000 rows. */
export const PREVIEW_CHARS = 160;
const LIST_ERROR_CHARS = 300;

/** A Date as ISO text; a backend's unparsable date shows as empty rather than breaking the listing. */
function iso(date: Date | undefined): string {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
}

function errorView(error: JobError, withStack: boolean): LastErrorView {
  const out: LastErrorView = {
    message: withStack ? error.message : truncate(error.message, LIST_ERROR_CHARS),
    attempt: error.attempt,
    at: iso(error.at),
  };
  if (error.name !== undefined) out.name = error.name;
  if (withStack && error.stack !== undefined) out.stack = error.stack;
  return out;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Job data goes out as data: JSON strings the page puts into text nodes. Nothing here escapes
 * HTML, on purpose — escaping is the renderer's job, and the renderer never parses HTML.
 */
export function toJobSummary(record: JobRecord): JobSummary {
  const out: JobSummary = {
    id: record.id,
    queue: record.queue,
    state: record.state ?? null,
    priority: record.priority,
    runAt: iso(record.runAt),
    createdAt: iso(record.createdAt),
    attemptsMade: record.attemptsMade,
    maxAttempts: record.maxAttempts,
    payloadPreview: truncate(record.payload, PREVIEW_CHARS),
    payloadBytes: Buffer.byteLength(record.payload, 'utf8'),
  };
  if (record.uniqueKey !== undefined) out.uniqueKey = record.uniqueKey;
  if (record.lastError) out.lastError = errorView(record.lastError, false);
  return out;
}

function payloadView(text: string): PayloadView {
  try {
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch (err) {
    // written around core: show the stored text as it is
    return { ok: false, raw: text, error: err instanceof Error ? err.message : String(err) };
  }
}

export function toJobDetail(record: JobRecord): JobDetail {
  const { lastError: _summaryError, ...summary } = toJobSummary(record);
  const out: JobDetail = { ...summary, payload: payloadView(record.payload) };
  if (record.lastError) out.lastError = errorView(record.lastError, true);
  if (record.backoff !== undefined) out.backoff = record.backoff;
  return out;
}
