import { ACK_PAIRS } from './ack.js';
import { LEASE_READY } from './pop.js';

/**
 * ack-pop — complete jobs and lease the next ones of the same queue in one call ("finish and
 * fetch", what BullMQ's moveToFinished does for one job, here for a batch).
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 max; 6 leaseMs; 7 token base; 8 call
 * number; then triples id, token, earlier calls of the jobs to ack (as in ack).
 * Returns { ack flags (1/0 per triple, as ack), pop reply (as pop) }.
 *
 * Guarantee: atomic, and exactly ack followed by pop at one instant: the acks are fenced as in
 * ack, and the jobs they free (uniqueKeys) are visible to the pop. A worker pool refilling the
 * slots its finished jobs left pays one round trip and one script call per cycle instead of two.
 * Run a second time (the same call number, sent again after a reconnect), the acks answer as
 * the first run did and the pop leases afresh: what the first run leased was never delivered and
 * comes back when its lease ends, with the attempt counted.
 */
export const ACK_POP = `${ACK_PAIRS}${LEASE_READY}
local now = now_ms()
local flags = ack_pairs(now, 9, ARGV[8])
return { flags, lease_ready(now, tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]) }
`;
