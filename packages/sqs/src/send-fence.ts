import type { LeaseLostError } from '@ilkkun/core';
import type { ItemOutcome } from './batcher.js';

/**
 * A batch entry that acts under a lease: an ack's delete, a requeue's re-send.
 *
 * The entry is checked against its lease when the call is made, but the batch it joins goes out
 * later: up to the batcher's linger (15 ms for deletes) in the normal case, and arbitrarily later
 * when the process stalls in between (SIGSTOP, a long GC pause, a blocked event loop). SQS cannot
 * tell a stale receipt handle from a live one on delete (it answers success either way), so the
 * lease is judged again here, at the moment the request is built, and an entry whose lease ran out
 * meanwhile is answered with its LeaseLostError and left out of the request.
 */
export interface Fenced<T> {
  item: T;
  /** At send time: `undefined` = the lease still holds with room to spare; an error = do not send. */
  fence?: (now: number) => LeaseLostError | undefined;
}

/**
 * Send the entries whose fences pass (one request through `send`), answer the others with their
 * LeaseLostError. One outcome per entry, in order. A failure of the whole request fails only the
 * entries that were in it.
 */
export async function sendFenced<T, R>(
  entries: ReadonlyArray<Fenced<T>>,
  send: (items: T[]) => Promise<Array<ItemOutcome<R>>>,
  now: number = Date.now(),
): Promise<Array<ItemOutcome<R>>> {
  const outcomes: Array<ItemOutcome<R>> = new Array(entries.length);
  const live: number[] = [];
  entries.forEach((entry, i) => {
    const lost = entry.fence?.(now);
    if (lost) outcomes[i] = { ok: false, error: lost };
    else live.push(i);
  });
  if (live.length === 0) return outcomes;
  let sent: Array<ItemOutcome<R>>;
  try {
    sent = await send(live.map((i) => entries[i]!.item));
  } catch (error) {
    sent = live.map(() => ({ ok: false, error }));
  }
  live.forEach((i, k) => {
    outcomes[i] = sent[k] ?? { ok: false, error: new Error('batch reply is missing an entry') };
  });
  return outcomes;
}
