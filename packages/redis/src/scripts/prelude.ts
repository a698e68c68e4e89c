/**
 * Lua shared by every script (prepended to each, so each script stays one self-contained
 * EVALSHA). Conventions, the same for all scripts:
 *
 * KEYS (all in the queue's `{queue}` hash tag; see keys.ts):
 *   1 wait  2 delay  3 active  4 done  5 dead  6 mark  7 unique  8 id  9 att  10 owner
 *   11 head  12 body  13 err  14 calls (this backend instance's recent call answers)
 * ARGV: 1 keepCompleted  2 keepCompletedMs  3 keepDead  4 keepDeadMs (retention, options.ts);
 *   5… script-specific.
 *
 * Jobs are stored column-wise, each column a hash keyed by id: head (`priority \t maxAttempts
 * \t createdAt \t runAt \t backoff JSON \t uniqueKey`, uniqueKey last as it may hold tabs;
 * rewritten only when runAt changes), body (payload), err (lastError JSON), att (attemptsMade),
 * owner (uniqueKey, live holders). A batch of N jobs is then one variadic command per column,
 * never N commands. The state of a job is the sorted set that holds it: wait/delay hold
 * `member()` strings, active holds `id:token` (so one ZMSCORE checks a batch's tokens and
 * deadlines at once), done/dead hold `pad()`ded ids.
 *
 * All times are the Redis server's clock (TIME), so leases of workers on different hosts are
 * judged by one clock. Numbers are written with string.format('%d') because Lua's default
 * number-to-string conversion switches to exponent notation above 1e14.
 */
export const PRELUDE = `
local K_WAIT, K_DELAY, K_ACTIVE, K_DONE, K_DEAD, K_MARK, K_UNIQUE, K_ID = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_ATT, K_OWNER, K_HEAD, K_BODY, K_ERR, K_CALLS = KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14]
local KEEP_DONE, KEEP_DONE_MS, KEEP_DEAD, KEEP_DEAD_MS = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
-- bounded work per call for housekeeping, so no script ever blocks the server for long
local BATCH = 1000

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n)
  return string.format('%d', n)
end

local function unpad(s)
  return string.match(s, '^0*(%d+)$')
end

-- waiting/delayed member: (2^31-1 - priority, runAt, id) in fixed width, so the plain
-- lexicographic order of a ZSET with equal scores is exactly the pop order
-- (priority desc, runAt asc, insertion asc). No float precision involved.
local function member(priority, run_at, id)
  return string.format('%010d%015d%016d', 2147483647 - priority, run_at, tonumber(id))
end

local function member_id(m)
  return unpad(string.sub(m, 26))
end

-- active members: the lease is part of the member, so only its holder can name it
local function lease_member(id, token)
  return id .. ':' .. token
end

local function lease_id(m)
  return string.match(m, '^(%d+):')
end

-- completed/dead members: the id in fixed width, so jobs finished in the same millisecond
-- still list newest (highest id) first
local function pad(id)
  return string.format('%016d', tonumber(id))
end

-- priority, maxAttempts, uniqueKey ('' = none), runAt and the header itself; nil when there
-- is no such job
local function meta(id)
  local h = redis.call('HGET', K_HEAD, id)
  if not h then return nil end
  local p, m, r, u = string.match(h, '^(%-?%d+)\\t(%d+)\\t%d+\\t(%d+)\\t[^\\t]*\\t(.*)$')
  return tonumber(p), tonumber(m), u, tonumber(r), h
end

-- a job header: priority, maxAttempts, createdAt, runAt, backoff JSON, uniqueKey
local function header(priority, max_attempts, created, run_at, backoff, unique_key)
  return priority .. '\\t' .. max_attempts .. '\\t' .. created .. '\\t' .. run_at .. '\\t' .. backoff .. '\\t' .. unique_key
end

-- rewrite the header h of a job with a new runAt
local function set_run_at(id, h, run_at)
  local before, after = string.match(h, '^([^\\t]*\\t[^\\t]*\\t[^\\t]*\\t)[^\\t]*(\\t.*)$')
  redis.call('HSET', K_HEAD, id, before .. int(run_at) .. after)
end

-- ring the doorbell once: a marker list holds at most one element
local function signal()
  if redis.call('LLEN', K_MARK) == 0 then
    redis.call('RPUSH', K_MARK, '1')
  end
end

-- the job no longer holds its uniqueKey (it was acked, died or was deleted)
local function release_unique(u, id)
  if u and u ~= '' and redis.call('HGET', K_UNIQUE, u) == id then
    redis.call('HDEL', K_UNIQUE, u)
  end
  redis.call('HDEL', K_OWNER, id)
end

-- delete jobs for good from every column (not from the sorted set that holds them)
local function forget(ids)
  if #ids == 0 then return end
  redis.call('HDEL', K_HEAD, unpack(ids))
  redis.call('HDEL', K_BODY, unpack(ids))
  redis.call('HDEL', K_ATT, unpack(ids))
  if redis.call('EXISTS', K_ERR) == 1 then redis.call('HDEL', K_ERR, unpack(ids)) end
  if redis.call('EXISTS', K_OWNER) == 1 then redis.call('HDEL', K_OWNER, unpack(ids)) end
end

-- delete the jobs of completed/dead members
local function drop(set, members)
  if #members == 0 then return end
  local ids = {}
  for i, m in ipairs(members) do ids[i] = unpad(m) end
  forget(ids)
  redis.call('ZREM', set, unpack(members))
end

-- retention: oldest beyond keep, and older than keep_ms (when > 0)
local function trim(set, keep, keep_ms, now)
  local excess = redis.call('ZCARD', set) - keep
  if excess > 0 then
    drop(set, redis.call('ZRANGE', set, 0, math.min(excess, BATCH) - 1))
  end
  if keep_ms > 0 then
    drop(set, redis.call('ZRANGEBYSCORE', set, '-inf', now - keep_ms, 'LIMIT', 0, BATCH))
  end
end

-- a delayed entry; rings when it is now the earliest due time, so a waiting pop that computed
-- its block timeout from an older schedule re-reads it
local function add_delayed(run_at, m)
  local first = redis.call('ZRANGE', K_DELAY, 0, 0, 'WITHSCORES')
  redis.call('ZADD', K_DELAY, run_at, m)
  if first[2] == nil or run_at < tonumber(first[2]) then signal() end
end

local function bury(id, now, u)
  redis.call('ZADD', K_DEAD, now, pad(id))
  release_unique(u, id)
end

-- expired leases: attempt already counted by the pop; back to waiting, or dead when used up
local function recover(now)
  local members = redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', now, 'LIMIT', 0, BATCH)
  if #members == 0 then return 0 end
  local ids = {}
  for i, m in ipairs(members) do ids[i] = lease_id(m) end
  local atts = redis.call('HMGET', K_ATT, unpack(ids))
  local ready, died = 0, 0
  for i, id in ipairs(ids) do
    local p, max_attempts, u, _, h = meta(id)
    if p then
      local att = tonumber(atts[i]) or 0
      redis.call('HSET', K_ERR, id, '{"expired":true,"attempt":' .. int(att) .. ',"at":' .. int(now) .. '}')
      if att >= max_attempts then
        bury(id, now, u)
        died = died + 1
      else
        set_run_at(id, h, now)
        redis.call('ZADD', K_WAIT, 0, member(p, now, id))
        ready = ready + 1
      end
    end
  end
  redis.call('ZREM', K_ACTIVE, unpack(members))
  if died > 0 then trim(K_DEAD, KEEP_DEAD, KEEP_DEAD_MS, now) end
  return ready
end

-- due delayed jobs become waiting
local function promote(now)
  local ms = redis.call('ZRANGEBYSCORE', K_DELAY, '-inf', now, 'LIMIT', 0, BATCH)
  if #ms == 0 then return 0 end
  local args = {}
  for i, m in ipairs(ms) do
    args[2 * i - 1] = '0'
    args[2 * i] = m
  end
  redis.call('ZADD', K_WAIT, unpack(args))
  redis.call('ZREM', K_DELAY, unpack(ms))
  return #ms
end

-- ms until the next delayed job is due or the next lease ends; -1 when neither exists
local function next_due(now)
  local best = -1
  local d = redis.call('ZRANGE', K_DELAY, 0, 0, 'WITHSCORES')
  if d[2] then best = tonumber(d[2]) end
  local a = redis.call('ZRANGE', K_ACTIVE, 0, 0, 'WITHSCORES')
  if a[2] and (best < 0 or tonumber(a[2]) < best) then best = tonumber(a[2]) end
  if best < 0 then return -1 end
  return math.max(0, best - now)
end

-- true iff the token is the job's current lease and the lease has not ended
local function leased(id, token, now)
  if token == '' then return false end
  local deadline = redis.call('ZSCORE', K_ACTIVE, lease_member(id, token))
  return deadline ~= false and tonumber(deadline) > now
end

-- Calls that end leases (ack, ack-pop, requeue) carry a number, unique per backend instance.
-- The answer of each call that changed something is kept in K_CALLS (a hash of CALL_RING slots,
-- one per instance and queue), so a call that runs a second time — ioredis sends unanswered
-- commands again after a reconnect — answers as its first run did instead of "lease lost", and
-- a later call may name earlier ones whose answers never arrived (see calls.ts).
local CALL_RING = 64
local CALL_IDLE_MS = 600000

local function call_slot(call)
  return int(tonumber(call) % CALL_RING)
end

-- the answer call number call gave, if it ran already; nil otherwise
local function recalled(call)
  if call == nil or call == '' then return nil end
  local v = redis.call('HGET', K_CALLS, call_slot(call))
  if not v then return nil end
  local n, answer = string.match(v, '^(%d+):(.*)$')
  if n == call then return answer end
  return nil
end

local function remember(call, answer)
  redis.call('HSET', K_CALLS, call_slot(call), call .. ':' .. answer)
  redis.call('PEXPIRE', K_CALLS, CALL_IDLE_MS)
end

-- whether one of the earlier calls in refs ('call.index,call.index'; '' = none) ended the
-- lease of its entry index (flag '1' in its answer)
local function ended_before(refs)
  if refs == '' then return false end
  for call, index in string.gmatch(refs, '(%d+)%.(%d+)') do
    local answer = recalled(call)
    if answer and string.sub(answer, tonumber(index) + 1, tonumber(index) + 1) == '1' then return true end
  end
  return false
end

-- housekeeping every inspection call starts with, so what it reports matches what a pop would see
local function maintain(now)
  local woke = recover(now) + promote(now)
  if woke > 0 then signal() end
  if KEEP_DONE > 0 then trim(K_DONE, KEEP_DONE, KEEP_DONE_MS, now) end
  trim(K_DEAD, KEEP_DEAD, KEEP_DEAD_MS, now)
end

-- the state of a job: the set that holds it (nil when there is no such job)
local function state_of(id)
  local p, _, _, r = meta(id)
  if not p then return nil end
  if redis.call('ZSCORE', K_DEAD, pad(id)) then return 'dead' end
  if redis.call('ZSCORE', K_DONE, pad(id)) then return 'completed' end
  local m = member(p, r, id)
  if redis.call('ZSCORE', K_WAIT, m) then return 'waiting' end
  if redis.call('ZSCORE', K_DELAY, m) then return 'delayed' end
  -- a live job is in exactly one set; the active one is keyed by its token, unknown here
  return 'active'
end

-- append the records of jobs to out: id, head, body, lastError, attemptsMade per job (jobs
-- that are gone are left out); one HMGET per column for the whole list
local function append_records(out, ids)
  if #ids == 0 then return end
  local heads = redis.call('HMGET', K_HEAD, unpack(ids))
  local bodies = redis.call('HMGET', K_BODY, unpack(ids))
  local errs = redis.call('HMGET', K_ERR, unpack(ids))
  local atts = redis.call('HMGET', K_ATT, unpack(ids))
  for i, id in ipairs(ids) do
    if heads[i] then
      local o = #out
      out[o + 1] = id
      out[o + 2] = heads[i]
      out[o + 3] = bodies[i]
      out[o + 4] = errs[i]
      out[o + 5] = atts[i] or '0'
    end
  end
end
`;
