import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';
import { hostHeaderName, isLoopbackHost } from './loopback.js';

/**
 * DNS rebinding: a web page on evil.example can make its own name resolve to 127.0.0.1 and then
 * read a loopback server as "same origin". Its requests still carry `Host: evil.example`, so a
 * loopback-bound dashboard answers only requests addressed to a loopback name.
 */
export function checkHost(req: IncomingMessage, boundToLoopback: boolean): void {
  if (!boundToLoopback) return;
  const name = hostHeaderName(req.headers.host);
  if (name === undefined || !isLoopbackHost(name)) {
    throw new HttpError(
      'FORBIDDEN',
      'this dashboard answers only requests addressed to a loopback host name',
    );
  }
}

/**
 * Cross-site request forgery: a page elsewhere can make the browser POST to 127.0.0.1. Writes
 * must be JSON (a cross-origin JSON POST needs a CORS preflight, which this server never grants)
 * and, where the browser says where the request came from, come from this very origin.
 */
export function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError('FORBIDDEN', `cross-site request refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError('FORBIDDEN', 'unparsable Origin header');
    }
    if (originHost.toLowerCase() !== (req.headers.host ?? '').toLowerCase()) {
      throw new HttpError('FORBIDDEN', 'cross-origin request refused');
    }
  } else if (origin === 'null') {
    throw new HttpError('FORBIDDEN', 'request from an opaque origin refused');
  }
}

/**
 * Writes are JSON, even those without a body: a cross-site page can send a form or a
 * `text/plain` POST without asking, but an `application/json` one only after a CORS preflight,
 * which this server never grants.
 */
export function checkJsonContentType(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'write actions are POSTed as application/json');
  }
}
