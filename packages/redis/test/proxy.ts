import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of the shared Redis, for connection faults that touch only the
 * connections going through it (the shared server is never restarted: other tests use it).
 *
 * `loseReplyAfter(pattern)` reproduces the worst moment for a cut: the request reaches Redis and
 * runs, but its reply never reaches the client. From the first client→server chunk containing
 * `pattern` on, everything Redis sends back on that connection is swallowed; the test then waits
 * until it can see the command's effect in Redis and calls `cut()`. The client sees a dead
 * connection with the command unanswered, exactly as after a network cut at that instant.
 */
export class RedisFaultProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private pattern: Buffer | undefined;
  /** connections whose replies are being swallowed */
  private readonly muted = new WeakSet<Socket>();
  private matches = 0;
  private readonly matchWaiters: Array<() => void> = [];

  private constructor(
    private server: Server,
    readonly port: number,
    private readonly listener: (client: Socket) => void,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<RedisFaultProxy> {
    let proxy: RedisFaultProxy | undefined;
    const listener = (client: Socket) => proxy?.relay(client, targetPort, targetHost);
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new RedisFaultProxy(server, address.port, listener);
    return proxy;
  }

  private relay(client: Socket, targetPort: number, targetHost: string): void {
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream };
    this.pairs.add(pair);
    let tail = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      const pattern = this.pattern;
      if (pattern && !this.muted.has(client)) {
        // the tail of the previous chunk too, so a pattern split across two chunks is found
        const window = Buffer.concat([tail, chunk]);
        if (window.includes(pattern)) {
          this.muted.add(client);
          this.pattern = undefined;
          this.matches++;
          for (const wake of this.matchWaiters.splice(0)) wake();
        }
        tail = window.subarray(Math.max(0, window.length - pattern.length));
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.muted.has(client)) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', end);
    }
  }

  /** Swallow the replies on the next connection that sends `pattern` (once). */
  loseReplyAfter(pattern: string): void {
    this.pattern = Buffer.from(pattern);
  }

  /** Resolves once a request with the armed pattern went through (its reply is being swallowed). */
  async matched(timeoutMs = 10_000): Promise<void> {
    if (this.matches > 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the armed pattern was never sent')), timeoutMs);
      this.matchWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Drop every connection now (no goodbye); new connections are accepted as before. */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
  }

  /**
   * An outage: drop every connection and stop listening, so reconnects are refused
   * (ECONNREFUSED, as with a server that is down) until `restore()`.
   */
  async outage(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cut();
    await closed;
  }

  /** Listen again on the same port. */
  async restore(): Promise<void> {
    const server = createServer(this.listener);
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** The Redis URL through this relay (query and path kept). */
  url(base: string): string {
    const u = new URL(base);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async close(): Promise<void> {
    this.pattern = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cut();
    await closed.catch(() => undefined);
  }
}
