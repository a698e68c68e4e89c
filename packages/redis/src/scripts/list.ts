/**
 * list — one page of the jobs of one state.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 state (waiting|delayed|active|completed|dead);
 * 6 offset; 7 limit.
 * Returns 5 values per job: id, head, body, lastError, attempts.
 *
 * Order: waiting in pop order; delayed by runAt (then pop order); active by lease deadline;
 * completed and dead newest first. Housekeeping runs first, as in counts.
 */
export const LIST = `
local now = now_ms()
maintain(now)
local state, first = ARGV[5], tonumber(ARGV[6])
local last = first + tonumber(ARGV[7]) - 1
local ids = {}
if state == 'waiting' or state == 'delayed' then
  local ms = redis.call('ZRANGE', state == 'waiting' and K_WAIT or K_DELAY, first, last)
  for i, m in ipairs(ms) do ids[i] = member_id(m) end
elseif state == 'active' then
  local ms = redis.call('ZRANGE', K_ACTIVE, first, last)
  for i, m in ipairs(ms) do ids[i] = lease_id(m) end
elseif state == 'completed' or state == 'dead' then
  local ms = redis.call('ZREVRANGE', state == 'completed' and K_DONE or K_DEAD, first, last)
  for i, m in ipairs(ms) do ids[i] = unpad(m) end
end
local out = {}
append_records(out, ids)
return out
`;
