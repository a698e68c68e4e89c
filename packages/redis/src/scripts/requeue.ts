/**
 * requeue — give a leased job back: retry later, release unattempted, or bury as dead.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 id; 6 token; 7 runAt (server ms, '' = now);
 * 8 due ('1' when the client meant "now or earlier"); 9 error JSON ('' = none);
 * 10 dead '1'/'0'; 11 release '1'/'0'; 12 call number; 13 earlier calls ('call.0,…' whose
 * answers were lost; '' = none).
 * Returns 1, or 0 when the lease is lost (nothing changed).
 *
 * Guarantee: atomic; fencing by token. Run a second time (the same call number), or after an
 * earlier call of the same holder that did requeue it, it changes nothing and answers 1. The attempt counted by the pop stays counted, except on
 * release, which gives it back (graceful shutdown). A dead job frees its uniqueKey; a retried
 * one keeps it. Rings the doorbell when the job is ready at once or becomes the earliest due.
 */
export const REQUEUE = `
local now = now_ms()
local id = ARGV[5]
if recalled(ARGV[12]) then return 1 end
if not leased(id, ARGV[6], now) then
  if ended_before(ARGV[13]) then return 1 end
  return 0
end
remember(ARGV[12], '1')
local p, _, u, _, h = meta(id)
redis.call('ZREM', K_ACTIVE, lease_member(id, ARGV[6]))
local release = ARGV[11] == '1'
if release then
  local att = (tonumber(redis.call('HGET', K_ATT, id)) or 1) - 1
  if att > 0 then redis.call('HSET', K_ATT, id, int(att)) else redis.call('HDEL', K_ATT, id) end
elseif ARGV[9] ~= '' then
  redis.call('HSET', K_ERR, id, ARGV[9])
end
if ARGV[10] == '1' and not release then
  bury(id, now, u)
  trim(K_DEAD, KEEP_DEAD, KEEP_DEAD_MS, now)
  return 1
end
local r = now
if ARGV[7] ~= '' then
  r = tonumber(ARGV[7])
  if ARGV[8] == '1' and r > now then r = now end
  if r < 0 then r = 0 end
end
set_run_at(id, h, r)
local m = member(p, r, id)
if r <= now then
  redis.call('ZADD', K_WAIT, 0, m)
  signal()
else
  add_delayed(r, m)
end
return 1
`;
