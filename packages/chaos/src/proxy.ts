import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One client connection and the server connection it was paired with. */
interface Pair {
  client: Socket;
  server: Socket;
  /** bytes held back while the link is silent, per direction */
  toServer: Buffer[];
  toClient: Buffer[];
}

/**
 * A loopback TCP proxy that can fail on purpose, Toxiproxy-style but in-process and without
 * root: `cut()` resets every connection (the client sees ECONNRESET), `silence()` stops
 * forwarding while every socket stays open (a half-open link: nothing arrives, nothing fails),
 * `heal()` delivers what was held back, as TCP does when a partition ends.
 */
export class FaultProxy {
  private readonly pairs = new Set<Pair>();
  private server: Server | undefined;
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listen on 127.0.0.1 on a free port (never on another interface). */
  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Reset every open connection at once (RST, not a polite FIN). */
  cut(): void {
    for (const pair of this.pairs) this.drop(pair, true);
  }

  silence(): void {
    this.silent = true;
  }

  heal(): void {
    this.silent = false;
    for (const pair of this.pairs) {
      for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    }
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair: Pair = { client, server, toServer: [], toClient: [] };
    this.pairs.add(pair);
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (this.silent) pair.toServer.push(chunk);
      else server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (this.silent) pair.toClient.push(chunk);
      else client.write(chunk);
    });
    // either side ending or failing ends both: the proxy never keeps half a connection alive
    const end = () => this.drop(pair, false);
    for (const socket of [client, server]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }

  private drop(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return;
    for (const socket of [pair.client, pair.server]) {
      if (reset && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
