/**
 * get-job — one job by id.
 *
 * KEYS: the common fourteen. ARGV: 1–4 retention; 5 id.
 * Returns { state, id, head, body, lastError, attempts } or an empty array when there is no
 * such job.
 *
 * Housekeeping runs first, as in counts, so an expired lease shows as waiting or dead.
 */
export const GET_JOB = `
local now = now_ms()
maintain(now)
local state = state_of(ARGV[5])
if not state then return {} end
local out = { state }
append_records(out, { ARGV[5] })
return out
`;
