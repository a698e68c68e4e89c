import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The bearer token of a request, if it sent one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * Checks a presented token against the configured one. Both are hashed first so the comparison
 * takes the same time whatever the lengths (timingSafeEqual needs equal lengths).
 */
export function makeTokenCheck(expected: string | undefined): (req: IncomingMessage) => void {
  if (expected === undefined) return () => {};
  const want = digest(expected);
  return (req) => {
    const given = bearerToken(req);
    if (given === undefined || !timingSafeEqual(digest(given), want)) {
      throw new HttpError(
        'UNAUTHORIZED',
        given === undefined
          ? 'this action needs the dashboard token (Authorization: Bearer <token>)'
          : 'wrong token',
        { 'www-authenticate': 'Bearer realm="ilkkun-dashboard"' },
      );
    }
  };
}
