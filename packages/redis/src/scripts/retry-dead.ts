/**
 * retry-dead — move dead jobs back to waiting with their attempt count reset.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5… ids (plain or padded).
 * Returns how many moved.
 *
 * Guarantee: atomic. Only ids that are dead move; lastError is kept for the record. A job whose
 * uniqueKey was taken by a newer live job meanwhile stays dead rather than break uniqueness.
 */
export const RETRY_DEAD = `
local now = now_ms()
local moved = 0
for i = 5, #ARGV do
  local id = unpad(ARGV[i])
  if id and redis.call('ZSCORE', K_DEAD, pad(id)) then
    local p, _, u, _, h = meta(id)
    local free = p ~= nil
    if free and u ~= '' then
      free = redis.call('HSETNX', K_UNIQUE, u, id) == 1
      if free then redis.call('HSET', K_OWNER, id, u) end
    end
    if free then
      set_run_at(id, h, now)
      redis.call('HDEL', K_ATT, id)
      redis.call('ZREM', K_DEAD, pad(id))
      redis.call('ZADD', K_WAIT, 0, member(p, now, id))
      moved = moved + 1
    end
  end
end
if moved > 0 then signal() end
return moved
`;
