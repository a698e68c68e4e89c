import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that holds every chunk for `oneWayMs` in each direction, so a round trip
 * costs `2 × oneWayMs` more: what a store in another zone or a managed service (real SQS: 10–20 ms
 * per call) costs, on a machine where everything is on 127.0.0.1. Order is kept (equal timers fire
 * in order). The kernel's way would be `tc netem` in a network namespace; kernels built without
 * the netem qdisc (this project's machines) cannot, so the delay lives here.
 */
export interface LatencyProxy {
  /** the URL with its host:port replaced by the proxy's */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Put a proxy adding `roundTripMs` in front of the server a URL names (loopback servers only). */
export async function proxyUrl(url: string, roundTripMs: number): Promise<LatencyProxy> {
  const u = new URL(url);
  if (!u.hostname || !u.port) {
    throw new Error(`--add-latency-ms needs a server URL with host and port, not ${u.protocol}`);
  }
  if (!LOOPBACK.has(u.hostname)) {
    throw new Error(`--add-latency-ms proxies loopback servers only, not ${u.hostname}`);
  }
  const target = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  const oneWayMs = roundTripMs / 2;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), oneWayMs));
      from.on('end', () => setTimeout(() => to.end(), oneWayMs));
      from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  u.host = `127.0.0.1:${port}`;
  return {
    url: u.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
