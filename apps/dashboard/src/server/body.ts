import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

/** Action bodies are small (a list of at most 1000 ids): anything larger is refused unread. */
export const MAX_BODY_BYTES = 128 * 1024;

/** Read and parse a JSON request body, bounded in size. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError('BODY_TOO_LARGE', `the body is over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw new HttpError('BODY_TOO_LARGE', `the body is over ${limit} bytes`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError('BAD_REQUEST', 'the body is not valid JSON');
  }
}
