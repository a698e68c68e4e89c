/**
 * The server's clock as seen from this process. Every comparison that decides anything runs on
 * the server (`NOW_MS` in SQL), so all processes agree however their own clocks drift; this
 * offset only converts times for display and for the Dates returned to callers
 * (`lease.expiresAt`, `runAt`), and turns a caller's absolute `runAt` into a delay.
 */
export class ServerClock {
  /** server ms − local ms, from the freshest measurement */
  private offsetMs = 0;

  /** Record a server timestamp read by a statement that was sent at `sentAt` and answered at `receivedAt`. */
  observe(serverMs: number, sentAt: number, receivedAt: number): void {
    if (Number.isFinite(serverMs)) this.offsetMs = serverMs - (sentAt + receivedAt) / 2;
  }

  /** A server timestamp as a local Date. */
  toLocal(serverMs: number): Date {
    return new Date(Math.round(serverMs - this.offsetMs));
  }

  /** Local ms → server ms. */
  toServer(localMs: number): number {
    return Math.round(localMs + this.offsetMs);
  }
}
