/**
 * Lua run atomically in Redis by AnomalyDetector, one call per key (and minute) per
 * batch, all in one pipeline, so several worker processes counting batches of the
 * same key never lose an update between a read and a write.
 */

/**
 * A key's per-minute rate and its baseline. KEYS[1] the key's hash
 * {minute, count, ewma, minutes}. ARGV: minute (epoch minutes), checks, alpha, ttl.
 *
 * When a later minute arrives, the minute just closed is folded into the baseline
 * (an EWMA of the rate while in use: idle minutes are skipped, or every key that
 * sleeps at night would "spike" each morning). Events of an already-closed minute
 * (a late batch) are not counted for the spike rule.
 * Returns { checks in `minute` so far, or -1 when the minute is closed; baseline
 * ('' while none); active minutes in the baseline }.
 */
export const KEY_RATE_SCRIPT = `
local minute = tonumber(ARGV[1])
local alpha = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'minute', 'count', 'ewma', 'minutes')
local current = tonumber(state[1])
local count = tonumber(state[2]) or 0
local ewma = tonumber(state[3])
local minutes = tonumber(state[4]) or 0
if current == nil then
  current = minute
  count = 0
elseif minute > current then
  if count > 0 then
    if ewma == nil then ewma = count else ewma = alpha * count + (1 - alpha) * ewma end
    minutes = minutes + 1
  end
  current = minute
  count = 0
end
if minute == current then count = count + tonumber(ARGV[2]) end
local baseline = ''
if ewma ~= nil then baseline = tostring(ewma) end
redis.call('HSET', KEYS[1], 'minute', current, 'count', count, 'ewma', baseline, 'minutes', minutes)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if minute ~= current then return { -1, baseline, minutes } end
return { count, baseline, minutes }
`;

/**
 * A key's history and known networks. KEYS[1] hash {first_seen (epoch ms), checks},
 * KEYS[2] the set of networks. ARGV: first check of the batch (epoch ms), checks in
 * the batch, ttl, then the batch's networks.
 * Returns { first_seen before this batch ('' when none), checks before this batch,
 * { networks added now } }.
 */
export const KEY_NETWORKS_SCRIPT = `
local first = redis.call('HGET', KEYS[1], 'first_seen')
local checks = tonumber(redis.call('HGET', KEYS[1], 'checks')) or 0
local fresh = {}
for i = 4, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then table.insert(fresh, ARGV[i]) end
end
if not first or tonumber(ARGV[1]) < tonumber(first) then redis.call('HSET', KEYS[1], 'first_seen', ARGV[1]) end
redis.call('HINCRBY', KEYS[1], 'checks', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return { first or '', checks, fresh }
`;
