/**
 * counts — jobs per state of one queue.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention.
 * Returns { waiting, delayed, active, completed, dead }.
 *
 * Guarantee: atomic and O(1) in the queue's size: housekeeping first (bounded: expired leases,
 * due delayed jobs, retention), so the numbers are what a pop would see, then five ZCARDs.
 */
export const COUNTS = `
local now = now_ms()
maintain(now)
return {
  redis.call('ZCARD', K_WAIT),
  redis.call('ZCARD', K_DELAY),
  redis.call('ZCARD', K_ACTIVE),
  redis.call('ZCARD', K_DONE),
  redis.call('ZCARD', K_DEAD),
}
`;
