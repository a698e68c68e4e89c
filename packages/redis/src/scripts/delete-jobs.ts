/**
 * delete-jobs — delete jobs of one state that is not active.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 state (waiting|delayed|completed|dead);
 * 6 limit; 7… ids (none = the first `limit` jobs of that state).
 * Returns how many were deleted; without ids the caller repeats until fewer than `limit` go.
 *
 * Guarantee: atomic per call. An id is deleted only if it is in that state now; its uniqueKey is
 * released if it still points at it.
 */
export const DELETE_JOBS = `
local now = now_ms()
maintain(now)
local state, limit = ARGV[5], tonumber(ARGV[6])
local set
if state == 'waiting' then set = K_WAIT
elseif state == 'delayed' then set = K_DELAY
elseif state == 'completed' then set = K_DONE
elseif state == 'dead' then set = K_DEAD
else return 0 end
local pending = (set == K_WAIT or set == K_DELAY)
local ids, entries = {}, {}
if #ARGV >= 7 then
  for i = 7, #ARGV do
    local id = ARGV[i]
    local entry = pad(id)
    if pending then
      local p, _, _, r = meta(id)
      entry = p and member(p, r, id) or nil
    end
    if entry and redis.call('ZSCORE', set, entry) then
      ids[#ids + 1] = id
      entries[#entries + 1] = entry
    end
  end
else
  entries = redis.call('ZRANGE', set, 0, limit - 1)
  for i, entry in ipairs(entries) do ids[i] = pending and member_id(entry) or unpad(entry) end
end
if #ids == 0 then return 0 end
if pending then
  for _, id in ipairs(ids) do
    local _, _, u = meta(id)
    release_unique(u, id)
  end
end
forget(ids)
redis.call('ZREM', set, unpack(entries))
return #ids
`;
