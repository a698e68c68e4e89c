/**
 * extend — lease heartbeat.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 id; 6 token; 7 leaseMs.
 * Returns the new deadline (server ms), or -1 when the lease is lost (nothing changed).
 *
 * Guarantee: atomic; fencing by token. An expired lease cannot be revived, even if no pop has
 * recovered the job yet: its holder must assume someone else may run it.
 */
export const EXTEND = `
local now = now_ms()
local id = ARGV[5]
if not leased(id, ARGV[6], now) then return -1 end
local deadline = int(now + tonumber(ARGV[7]))
redis.call('ZADD', K_ACTIVE, 'XX', deadline, lease_member(id, ARGV[6]))
return deadline
`;
