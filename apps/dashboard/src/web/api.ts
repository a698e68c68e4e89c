import type { ApiErrorBody } from '../shared/api-types.js';
import { currentToken } from './token.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  const error = (value as { error?: unknown } | null)?.error;
  return (
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
  );
}

async function parse<T>(res: Response): Promise<T> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    if (isErrorBody(body)) throw new ApiError(res.status, body.error.code, body.error.message);
    throw new ApiError(res.status, 'HTTP', `HTTP ${res.status}`);
  }
  // Our own server's answer, typed by the shared API types.
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }));
}

export async function postJson<T>(path: string, body: unknown = {}, token = currentToken()): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return parse<T>(
    await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), cache: 'no-store' }),
  );
}

export function queuePath(queue: string): string {
  return `/api/queues/${encodeURIComponent(queue)}`;
}
