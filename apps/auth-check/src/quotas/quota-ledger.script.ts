import { RedisScript } from '@latchkey/platform';

/**
 * Takes `cost` units from a quota bucket, all or nothing, atomically. The bucket
 * stores what was used rather than what is left, so a plan change (a new limit)
 * applies at once to the running period. A check that would go past the limit is
 * refused and takes nothing, so `remaining` never goes below zero.
 *
 * KEYS[1] the bucket. ARGV: limit, cost, expire at (unix seconds, 0 = never).
 * Returns { allowed (0|1), remaining }.
 */
export const QUOTA_LEDGER_SCRIPT = new RedisScript(`
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if cost > limit - used then
  return { 0, math.max(limit - used, 0) }
end
if cost > 0 then
  used = redis.call('INCRBY', KEYS[1], cost)
  if ARGV[3] ~= '0' then
    redis.call('EXPIREAT', KEYS[1], ARGV[3])
  end
end
return { 1, limit - used }
`);
