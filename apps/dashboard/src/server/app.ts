import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRoutes } from './api/read-routes.js';
import { writeRoutes } from './api/write-routes.js';
import { makeTokenCheck } from './auth.js';
import type { AppContext } from './context.js';
import { HttpError } from './http-errors.js';
import { isLoopbackHost } from './loopback.js';
import { checkHost, checkJsonContentType, checkSameOrigin } from './request-guard.js';
import { sendBytes, sendError, sendJson } from './respond.js';
import { Router } from './router.js';
import type { Asset } from './static-assets.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The request pipeline: host check, route, write gate, handler, error mapping. */
export function createHandler(ctx: AppContext, assets: ReadonlyMap<string, Asset>): RequestHandler {
  const router = new Router([
    ...readRoutes(ctx),
    ...writeRoutes(ctx),
    ...[...assets.keys()].map((path) => ({
      method: 'GET' as const,
      path,
      kind: 'raw' as const,
      handle: ({ res }: { res: ServerResponse }) => {
        const asset = assets.get(path)!;
        sendBytes(res, 200, asset.type, asset.body);
      },
    })),
  ]);
  const boundToLoopback = isLoopbackHost(ctx.options.host);
  const checkToken = makeTokenCheck(ctx.options.token);
  const { log } = ctx.options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkHost(req, boundToLoopback);
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const { route, params } = router.match(req.method ?? 'GET', url.pathname);
    const request = { req, res, params, query: url.searchParams };
    if (route.kind === 'raw') {
      await route.handle(request);
      return;
    }
    if (route.write) {
      // read-only first: in that mode no token unlocks anything
      if (ctx.options.readOnly)
        throw new HttpError('READ_ONLY', 'the dashboard runs read-only: write actions are off');
      checkSameOrigin(req);
      checkJsonContentType(req);
      checkToken(req);
    }
    sendJson(res, 200, await route.handle(request));
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, log));
  };
}
