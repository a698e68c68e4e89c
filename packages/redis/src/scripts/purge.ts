/**
 * purge — delete every job of one queue, active ones too (their leases are then lost).
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 limit.
 * Returns how many jobs went; the caller repeats until fewer than `limit` go. The call that
 * finds the queue empty drops every per-queue key, the id counter too, so a purged queue leaves
 * nothing behind (other backend instances' recent-call keys expire on their own). Ids may then start again at 1; a lease handed out before the purge still
 * cannot touch a new job with the same id, because tokens are never reused.
 */
export const PURGE = `
local limit = tonumber(ARGV[5])
local removed = 0
for _, set in ipairs({ K_WAIT, K_DELAY, K_ACTIVE, K_DONE, K_DEAD }) do
  if limit - removed <= 0 then break end
  local entries = redis.call('ZRANGE', set, 0, limit - removed - 1)
  if #entries > 0 then
    local pending = (set == K_WAIT or set == K_DELAY)
    local ids = {}
    for i, entry in ipairs(entries) do
      if pending then
        ids[i] = member_id(entry)
      elseif set == K_ACTIVE then
        ids[i] = lease_id(entry)
      else
        ids[i] = unpad(entry)
      end
    end
    if redis.call('EXISTS', K_OWNER) == 1 then
      local owners = redis.call('HMGET', K_OWNER, unpack(ids))
      for i, id in ipairs(ids) do
        if owners[i] then release_unique(owners[i], id) end
      end
    end
    forget(ids)
    redis.call('ZREM', set, unpack(entries))
    removed = removed + #entries
  end
end
if removed < limit then
  redis.call('DEL', K_UNIQUE, K_MARK, K_ATT, K_OWNER, K_HEAD, K_BODY, K_ERR, K_ID, K_CALLS)
end
return removed
`;
