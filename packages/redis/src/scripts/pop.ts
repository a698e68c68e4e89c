/**
 * pop — lease up to `max` ready jobs of one queue in one call.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 max; 6 leaseMs; 7 token base (random per call).
 * Returns { nextDueMs, deadline, then 5 values per job: id, head, body, lastError, attempts }. The k-th job's lease token is token base .. k. nextDueMs (-1 = nothing scheduled)
 * is only filled when fewer than `max` jobs were handed out: it tells a waiting pop how long it
 * may block before a delayed job or a lease comes due.
 *
 * Guarantee: atomic. First recovers expired leases (attempt already counted: back to waiting
 * with "lease expired", or dead when attempts are used up) and promotes due delayed jobs, then
 * takes the head of the waiting set (priority desc, runAt asc, insertion asc), counts the
 * attempt and records a fresh token and deadline. Any live pop does the recovery: there is no
 * reaper process to lose. When it took `max` jobs and more are ready, it passes the doorbell on
 * so the next blocked pop wakes too. Cost: a fixed number of variadic commands, none per job.
 */

/** `lease_ready(now, max, lease_ms, base)`: the pop itself, shared with ack-pop. */
export const LEASE_READY = `
local function lease_ready(now, max, lease_ms, base)
  recover(now)
  promote(now)
  local deadline = int(now + lease_ms)
  local popped = redis.call('ZPOPMIN', K_WAIT, max)
  local out = { -1, deadline }
  if #popped > 0 then
    local ids = {}
    for i = 1, #popped, 2 do ids[#ids + 1] = member_id(popped[i]) end
    local heads = redis.call('HMGET', K_HEAD, unpack(ids))
    local bodies = redis.call('HMGET', K_BODY, unpack(ids))
    local atts = redis.call('HMGET', K_ATT, unpack(ids))
    local errs = redis.call('EXISTS', K_ERR) == 1 and redis.call('HMGET', K_ERR, unpack(ids)) or {}
    local counts, z = {}, {}
    local n = 0
    for i, id in ipairs(ids) do
      if heads[i] then
        n = n + 1
        local att = int((tonumber(atts[i]) or 0) + 1)
        local k = 2 * n
        counts[k - 1] = id
        counts[k] = att
        z[k - 1] = deadline
        z[k] = lease_member(id, base .. n)
        local o = #out
        out[o + 1] = id
        out[o + 2] = heads[i]
        out[o + 3] = bodies[i]
        out[o + 4] = errs[i] or false
        out[o + 5] = att
      end
    end
    if n > 0 then
      redis.call('HSET', K_ATT, unpack(counts))
      redis.call('ZADD', K_ACTIVE, unpack(z))
    end
  end
  if #popped / 2 >= max then
    if redis.call('ZCARD', K_WAIT) > 0 then signal() end
  else
    out[1] = next_due(now)
  end
  return out
end
`;

export const POP = `${LEASE_READY}
return lease_ready(now_ms(), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
`;
