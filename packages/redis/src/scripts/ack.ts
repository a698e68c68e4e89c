/**
 * ack — complete many leased jobs of one queue in one call.
 *
 * KEYS: the common thirteen. ARGV: 1–4 retention; then pairs id, token.
 * Returns 1 (acked) or 0 (lease lost) per pair, in order.
 *
 * Guarantee: atomic; fencing by token. A job is acked only if the token is its current lease and
 * the lease has not ended (an expired lease is lost even before another pop recovers it), and at
 * most once per call. Acked jobs are deleted, or kept as completed when `keepCompleted` > 0
 * (trimmed by count and age). Their uniqueKey is released. Cost: a fixed number of variadic
 * commands, none per job (except two per job that holds a uniqueKey).
 */

/** `ack_pairs(now, from)`: ack the (id, token) pairs in ARGV from index `from` on; shared with ack-pop. */
export const ACK_PAIRS = `
local function ack_pairs(now, from)
  local n = (#ARGV - from + 1) / 2
  local ids, members, tokens = {}, {}, {}
  for i = 1, n do
    ids[i] = ARGV[from + 2 * i - 2]
    tokens[i] = ARGV[from + 2 * i - 1]
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
    out[i] = ok
  end
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
return ack_pairs(now_ms(), 5)
`;
