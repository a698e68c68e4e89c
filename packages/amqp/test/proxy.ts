import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of the shared RabbitMQ. Cutting it drops the connections that
 * go through it, exactly as a network cut or a dead peer would, without touching the broker or
 * anyone else's connections (the broker must never be restarted: other tests use it).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  /** client socket → its broker socket, while both are open */
  private readonly pairs = new Map<Socket, Socket>();
  private accepting = true;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort = 5672, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy?.accepting) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy?.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      proxy.pairs.set(client, upstream);
      client.on('close', () => proxy?.pairs.delete(client));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** Drop every connection now (both directions, no goodbye). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Hold back everything the open connections send to the broker (the broker's side still
   * reaches the client): what the client writes from now on stays in the relay, so the broker
   * cannot have it. Connections opened later are not held.
   */
  holdToBroker(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      client.pause();
    }
  }

  /** An outage: drop everything and refuse new connections until `restore()`. */
  outage(): void {
    this.accepting = false;
    this.cut();
  }

  restore(): void {
    this.accepting = true;
  }

  /** The broker URL through this relay. */
  url(base: string): string {
    const u = new URL(base);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
