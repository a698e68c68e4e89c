/**
 * ack — complete many leased jobs of one queue in one call.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 call number; then triples id, token,
 * earlier calls ('call.index,…' naming the same handle in earlier calls whose answers were
 * lost; '' = none).
 * Returns 1 (acked) or 0 (lease lost) per triple, in order.
 *
 * Guarantee: atomic; fencing by token. A job is acked only if the token is its current lease and
 * the lease has not ended (an expired lease is lost even before another pop recovers it), and at
 * most once per call. Acked jobs are deleted, or kept as completed when `keepCompleted` > 0
 * (trimmed by count and age). Their uniqueKey is released. A call that already ran (the same
 * call number: a command sent again after a reconnect) changes nothing and returns its first
 * answer; an entry whose lease is gone counts as acked if one of the earlier calls it names acked
 * it. Any other ack of a lease that is gone, a second ack by its holder included, is lost. Cost: a
 * fixed number of variadic commands, none per job (except two per job that holds a uniqueKey).
 */

/** `ack_pairs(now, from, call)`: ack the (id, token, earlier) triples in ARGV from index `from` on; shared with ack-pop. */
export const ACK_PAIRS = `
local function flags_of(answer)
  local out = {}
  for i = 1, #answer do out[i] = tonumber(string.sub(answer, i, i)) end
  return out
end

local function ack_pairs(now, from, call)
  local answer = recalled(call)
  if answer then return flags_of(answer) end
  local n = (#ARGV - from + 1) / 3
  local ids, members, tokens, earlier = {}, {}, {}, {}
  for i = 1, n do
    ids[i] = ARGV[from + 3 * i - 3]
    tokens[i] = ARGV[from + 3 * i - 2]
    earlier[i] = ARGV[from + 3 * i - 1]
    members[i] = lease_member(ids[i], tokens[i])
  end
  local out = {}
  if n == 0 then return out end
  -- the member carries the token: a deadline comes back only for a lease its holder presents
  local deadlines = redis.call('ZMSCORE', K_ACTIVE, unpack(members))
  -- most queues have no unique jobs: skip that lookup when none is live
  local owners = redis.call('EXISTS', K_OWNER) == 1 and redis.call('HMGET', K_OWNER, unpack(ids)) or {}
  local keep = KEEP_DONE > 0
  local acked, ended, done, seen = {}, {}, {}, {}
  for i = 1, n do
    local id = ids[i]
    local ok = 0
    if tokens[i] ~= '' and not seen[id] and deadlines[i] and tonumber(deadlines[i]) > now then
      ok = 1
      seen[id] = true
      acked[#acked + 1] = id
      ended[#ended + 1] = members[i]
      if owners[i] then release_unique(owners[i], id) end
      if keep then
        done[#done + 1] = int(now)
        done[#done + 1] = pad(id)
      end
    end
    -- the lease is gone: ended by an earlier call of this holder whose answer was lost?
    if ok == 0 and earlier[i] ~= '' and not seen[id] and ended_before(earlier[i]) then
      ok = 1
      seen[id] = true
    end
    out[i] = ok
  end
  -- kept only when something ended: a call that changed nothing answers the same when run again
  if next(seen) ~= nil then remember(call, table.concat(out)) end
  if #acked > 0 then
    redis.call('ZREM', K_ACTIVE, unpack(ended))
    if keep then
      redis.call('ZADD', K_DONE, unpack(done))
      trim(K_DONE, KEEP_DONE, KEEP_DONE_MS, now)
    else
      forget(acked)
    end
  end
  return out
end
`;

export const ACK = `${ACK_PAIRS}
return ack_pairs(now_ms(), 6, ARGV[5])
`;
