import type { AckBatcher, AckCallback, LeaseHandle, LeaseLostError } from '@ilkkun/core';

/** Where a finished job's ack goes: the batcher, or the slot group's next pop. */
export interface AckSink {
  add(handle: LeaseHandle, done: AckCallback): void;
}

export interface CarriedAck {
  handle: LeaseHandle;
  done: AckCallback;
}

/**
 * Holds the acks of jobs that finish while their slot group is about to refill its slots, so
 * they ride in the refill's round trip (`backend.ackAndPop`: one script call on Redis) instead
 * of a call of their own. The group turns holding on only while it waits for slots with a pop
 * ready to go out, so a held ack waits at most one turn of the event loop; whatever no pop
 * takes is handed to the batcher.
 */
export class AckCarrier implements AckSink {
  private held: CarriedAck[] = [];
  private holding = false;

  constructor(private readonly batcher: AckBatcher) {}

  add(handle: LeaseHandle, done: AckCallback): void {
    if (this.holding) this.held.push({ handle, done });
    else this.batcher.add(handle, done);
  }

  /** From now on, acks wait for the next `take()`. */
  hold(): void {
    this.holding = true;
  }

  /** The acks held so far (for the pop about to go out); holding stops. */
  take(): CarriedAck[] {
    this.holding = false;
    const held = this.held;
    this.held = [];
    return held;
  }

  /** Nothing will take them (no pop after all, or shutdown): send what is held the usual way. */
  flush(): void {
    for (const a of this.take()) this.batcher.add(a.handle, a.done);
  }
}

/** Tell each carried ack how its batch went: `acked[i]` null = acked, else its LeaseLostError. */
export function settleCarried(
  carried: readonly CarriedAck[],
  acked: ReadonlyArray<LeaseLostError | null>,
): void {
  carried.forEach((a, i) => {
    // an answer missing for an ack is not a success: its fate is unknown
    if (i >= acked.length) a.done(new Error('ackAndPop answered fewer acks than it was given'));
    else a.done(acked[i] ?? undefined);
  });
}

/** The ack-and-pop call failed: the acks' fate is unknown to us, each one reports the error. */
export function failCarried(carried: readonly CarriedAck[], err: unknown): void {
  for (const a of carried) a.done(err);
}
