import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-errors.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
}

/** `json` routes return the body to send (200); `raw` routes write the response themselves (SSE, files). */
export type Route =
  | {
      method: 'GET' | 'POST';
      path: string;
      kind: 'json';
      write?: boolean;
      handle(r: RouteRequest): Promise<unknown>;
    }
  | { method: 'GET'; path: string; kind: 'raw'; handle(r: RouteRequest): void | Promise<void> };

interface Compiled {
  route: Route;
  pattern: RegExp;
}

/** `/api/queues/:queue` → a RegExp with named groups; a parameter is one path segment, still percent-encoded. */
function compile(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) =>
      part.startsWith(':') ? `(?<${part.slice(1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

/** A tiny router: a table of routes, so each handler stays one small function. */
export class Router {
  private readonly routes: Compiled[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((route) => ({ route, pattern: compile(route.path) }));
  }

  /** The route for a request, or a 404/405 HttpError. */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const { route, pattern } of this.routes) {
      const m = pattern.exec(pathname);
      if (!m) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET' && route.kind === 'json')) {
        return { route, params: { ...m.groups } };
      }
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      throw new HttpError('METHOD_NOT_ALLOWED', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
    }
    throw new HttpError('NOT_FOUND', `nothing at ${pathname}`);
  }
}
