import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-errors.js';
import { SECURITY_HEADERS } from './security-headers.js';

export const MAX_STREAMS = 64;
const HEARTBEAT_MS = 15_000;
/** unsent bytes a stream may pile up before it counts as a client that stopped reading */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * Server-Sent Events for live updates: one-way, plain HTTP, reconnects by itself in every
 * browser, and allowed by `connect-src 'self'`. Bounded: at most MAX_STREAMS streams, and a
 * client that stops reading (megabytes left unsent) is dropped instead of buffered without end.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly maxStreams = MAX_STREAMS) {
    // a comment line now and then keeps proxies and idle timeouts from closing quiet streams
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse, first?: { event: string; data: unknown }): void {
    if (this.clients.size >= this.maxStreams) {
      throw new HttpError('TOO_MANY_STREAMS', `at most ${this.maxStreams} live pages at once`);
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('close', drop);
    if (first) this.send(res, first.event, first.data);
  }

  broadcast(event: string, data: unknown): void {
    this.write(frame(event, data));
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    res.write(frame(event, data));
    if (res.writableLength > MAX_BUFFERED_BYTES) this.dropSlow(res);
  }

  private write(text: string): void {
    for (const res of this.clients) {
      res.write(text);
      if (res.writableLength > MAX_BUFFERED_BYTES) this.dropSlow(res);
    }
  }

  private dropSlow(res: ServerResponse): void {
    this.clients.delete(res);
    res.destroy();
  }
}

/** One SSE message; JSON never contains a raw newline, so one `data:` line is enough. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
