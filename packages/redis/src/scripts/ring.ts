/**
 * ring — put a doorbell marker back (a waiting pop that gave up had just taken it).
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention.
 * Returns nothing.
 *
 * Guarantee: rings only while jobs are waiting, so a marker is never left on a queue that is
 * empty or was purged meanwhile.
 */
export const RING = `
if redis.call('ZCARD', K_WAIT) > 0 then signal() end
return 0
`;
