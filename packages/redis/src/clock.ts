import type { Redis } from 'ioredis';

/** How often the client/server clock offset is measured again (clocks drift, NTP steps). */
const RESYNC_MS = 60_000;

/**
 * The offset between this process's clock and the Redis server's. Scripts judge leases and due
 * times by the server's clock only (so workers on hosts with skewed clocks agree); times that
 * cross the boundary are converted here: a `runAt` on the way in, every date on the way out.
 * Measured with TIME and the midpoint of the round trip, so the error is at most half of it.
 */
export class ServerClock {
  /** server ms − client ms */
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly conn: Redis) {}

  async sync(): Promise<void> {
    const sent = Date.now();
    const [seconds, micros] = await this.conn.time();
    const received = Date.now();
    const server = Number(seconds) * 1000 + Number(micros) / 1000;
    this.offsetMs = server - (sent + received) / 2;
  }

  /** keep the offset fresh in the background; failures keep the last good value */
  start(): void {
    this.timer = setInterval(() => {
      this.sync().catch(() => undefined);
    }, RESYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  toServer(clientMs: number): number {
    return Math.round(clientMs + this.offsetMs);
  }

  toClient(serverMs: number): Date {
    return new Date(Math.round(serverMs - this.offsetMs));
  }
}
