/**
 * push — insert up to a few hundred jobs of one queue in one call.
 *
 * KEYS: the common fourteen (prelude.ts). ARGV: 1–4 retention; 5 job count n; then 7 values per job:
 *   payload · priority · runAt (server ms) · due ('1' when the client meant "now or earlier") ·
 *   maxAttempts · uniqueKey ('' = none) · backoff JSON ('' = none)
 * Returns one entry per job, in input order: the new id, or 'd' .. id of the live job that
 * already holds the uniqueKey (nothing inserted).
 *
 * Guarantee: atomic. Ids come from one INCRBY, so insertion order = id order; a uniqueKey is
 * checked and taken in the same step as the insert, within the batch too. A waiting job rings
 * the queue's doorbell (mark) so a blocked pop wakes at once. Cost: one variadic command per
 * column for the whole batch (plus two per job with a uniqueKey).
 */
export const PUSH = `
local now = now_ms()
local created = int(now)
local n = tonumber(ARGV[5])
local first = redis.call('INCRBY', K_ID, n) - n
local out, heads, bodies, waits, delays = {}, {}, {}, {}, {}
for i = 1, n do
  local b = 6 + (i - 1) * 7
  local id = int(first + i)
  local uk = ARGV[b + 5]
  local holder = false
  if uk ~= '' then
    holder = redis.call('HGET', K_UNIQUE, uk)
    if not holder then
      redis.call('HSET', K_UNIQUE, uk, id)
      redis.call('HSET', K_OWNER, id, uk)
    end
  end
  if holder then
    out[i] = 'd' .. holder
  else
    local r = tonumber(ARGV[b + 2])
    -- "run now" means now on the server's clock, whatever the client's clock says
    if ARGV[b + 3] == '1' and r > now then r = now end
    if r < 0 then r = 0 end
    local k = #heads
    heads[k + 1] = id
    heads[k + 2] = header(ARGV[b + 1], ARGV[b + 4], created, int(r), ARGV[b + 6], uk)
    bodies[k + 1] = id
    bodies[k + 2] = ARGV[b]
    local m = member(tonumber(ARGV[b + 1]), r, id)
    if r <= now then
      waits[#waits + 1] = '0'
      waits[#waits + 1] = m
    else
      delays[#delays + 1] = { r, m }
    end
    out[i] = id
  end
end
if #heads > 0 then
  redis.call('HSET', K_HEAD, unpack(heads))
  redis.call('HSET', K_BODY, unpack(bodies))
end
if #waits > 0 then
  redis.call('ZADD', K_WAIT, unpack(waits))
  signal()
end
for _, d in ipairs(delays) do add_delayed(d[1], d[2]) end
return out
`;
