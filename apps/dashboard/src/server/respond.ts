import type { ServerResponse } from 'node:http';
import type { ApiErrorBody } from '../shared/api-types.js';
import { mapError } from './http-errors.js';
import { SECURITY_HEADERS } from './security-headers.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendBytes(res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

/** Answer with `{ error: { status, code, message } }`; unexpected errors are logged, not exposed. */
export function sendError(res: ServerResponse, err: unknown, log: (line: string) => void): void {
  const mapped = mapError(err);
  if (mapped.internal)
    log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ApiErrorBody = { error: { status: mapped.status, code: mapped.code, message: mapped.message } };
  sendJson(res, mapped.status, body, mapped.headers);
}
