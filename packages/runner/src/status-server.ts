import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Always loopback: the scoreboard shows job ids and queue names, which are nobody else's business. */
export const STATUS_HOST = '127.0.0.1';

export interface StatusRoutes {
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  scoreboard(): string;
  health(): { ok: boolean; state: string };
}

export interface StatusServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `/status` JSON scoreboard, `/metrics` Prometheus text, `/healthz`, `/scoreboard` one line
 * (Qudo::Parallel::Manager's admin port, over HTTP so curl and Prometheus can read it).
 */
export async function startStatusServer(port: number, routes: StatusRoutes): Promise<StatusServer> {
  const server = createServer((req, res) => {
    handle(req, res, routes).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });
  // a scrape must never keep a stopping runner alive
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, STATUS_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${STATUS_HOST}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: StatusRoutes): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/status':
      return send(
        res,
        200,
        'application/json; charset=utf-8',
        `${JSON.stringify(routes.status(), null, 2)}\n`,
      );
    case '/metrics': {
      const { contentType, body } = await routes.metrics();
      return send(res, 200, contentType, body);
    }
    case '/healthz': {
      const health = routes.health();
      return send(
        res,
        health.ok ? 200 : 503,
        'application/json; charset=utf-8',
        `${JSON.stringify(health)}\n`,
      );
    }
    case '/scoreboard':
      return send(res, 200, 'text/plain; charset=utf-8', `${routes.scoreboard()}\n`);
    case '/':
      return send(
        res,
        200,
        'text/plain; charset=utf-8',
        'ilkkun runner: /status /metrics /healthz /scoreboard\n',
      );
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
