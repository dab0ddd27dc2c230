import type { RedisClient } from './redis-connection';
import { RedisScript } from './redis-script';

/**
 * Sliding-window log, exact across any number of instances (auth-check's key rate
 * limits, webhook endpoints' rate_limit_per_second): one sorted set per key and
 * window, one member per unit of cost, scored by the time Redis gave it (µs). A
 * check counts what is left in (now - window, now], so no instant ever sees more
 * than `limit` units in the window before it — no double burst at a window edge,
 * as a fixed window allows. Time comes from Redis `TIME`, so the
 * nodes' clocks never matter; Redis 5+ replicates the script's effects, not the
 * script, which makes TIME safe here.
 *
 * Memory is one member per unit in the window (limit members at most), which is
 * fine for the per-second/minute limits this serves; a very large limit over a
 * long window is what a quota is for.
 *
 * KEYS[1] the log. ARGV: limit, window (µs), cost.
 * Returns { allowed (0|1), remaining, reset (µs since epoch), retry after (µs) }.
 * Numbers are formatted with %.0f: Lua's default number→string loses digits of a µs clock.
 */
export const SLIDING_WINDOW_SCRIPT = new RedisScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowText = string.format('%.0f', now)

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local used = redis.call('ZCARD', KEYS[1])

if cost <= limit - used then
  if cost > 0 then
    -- Members are unique: 'now:n' where n grows with the count within one microsecond.
    local i = 1
    while i <= cost do
      local args = {}
      local last = math.min(i + 499, cost)
      for j = i, last do
        args[#args + 1] = nowText
        args[#args + 1] = nowText .. ':' .. string.format('%d', used + j)
      end
      redis.call('ZADD', KEYS[1], unpack(args))
      i = last + 1
    end
    used = used + cost
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  end
  local reset = now
  if used > 0 then
    -- The moment the oldest unit leaves the window and capacity starts coming back.
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    reset = tonumber(oldest[2]) + window
  end
  return { 1, limit - used, string.format('%.0f', reset), '0' }
end

local remaining = math.max(limit - used, 0)
if cost > limit then
  -- Can never pass: say so with a full window.
  return { 0, remaining, string.format('%.0f', now + window), string.format('%.0f', window) }
end
-- Enough capacity for this cost is back once the (used + cost - limit)-th oldest unit has left.
local entry = redis.call('ZRANGE', KEYS[1], used + cost - limit - 1, used + cost - limit - 1, 'WITHSCORES')
local freeAt = tonumber(entry[2]) + window
return { 0, remaining, string.format('%.0f', freeAt), string.format('%.0f', freeAt - now) }
`);

/** What one sliding-window call decided, its times in microseconds of Redis's clock. */
export interface SlidingWindowAnswer {
  allowed: boolean;
  remaining: number;
  /** When the oldest unit leaves the window (µs since the epoch). */
  resetUs: number;
  /** 0 when allowed; else how long until `cost` units fit (µs). */
  retryAfterUs: number;
}

/** Takes `cost` units of the window `logKey` (limit per windowUs) when they fit. */
export async function takeFromSlidingWindow(
  client: RedisClient,
  logKey: string,
  limit: number,
  windowUs: number,
  cost: number,
): Promise<SlidingWindowAnswer> {
  const [allowed, remaining, resetUs, retryAfterUs] = (await SLIDING_WINDOW_SCRIPT.run(client, [logKey], [limit, windowUs, cost])) as [
    number,
    number,
    string,
    string,
  ];
  return { allowed: allowed === 1, remaining, resetUs: Number(resetUs), retryAfterUs: Number(retryAfterUs) };
}
