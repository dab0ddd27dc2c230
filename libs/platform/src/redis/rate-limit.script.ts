import type { RedisClient } from './redis-connection';
import { RedisScript } from './redis-script';

/**
 * The highest limit kept as an exact sliding-window log. Up to it a key's state is at
 * most this many sorted-set members; above it GCRA keeps one small string whatever the
 * limit. It covers the whole range of webhook endpoints' rate_limit_per_second, so those
 * stay exact (docs/decisions/0011-rate-limit-state-bounded-per-key.md).
 */
export const EXACT_LOG_MAX_LIMIT = 1_000;

/** Which algorithm a limit is kept with: the exact log up to EXACT_LOG_MAX_LIMIT, GCRA above. */
export type RateLimitAlgorithm = 'log' | 'gcra';

export function rateLimitAlgorithm(limit: number): RateLimitAlgorithm {
  return limit <= EXACT_LOG_MAX_LIMIT ? 'log' : 'gcra';
}

/**
 * The key a limit's state lives under. The log keeps the name (and the sorted-set type)
 * it always had, so an upgrade carries its state over; GCRA's string gets its own name,
 * so it never reads a sorted set left by the log (WRONGTYPE). The suffix only appends,
 * so a hash tag in `baseKey` keeps both on one cluster slot.
 */
export function rateLimitKey(baseKey: string, algorithm: RateLimitAlgorithm): string {
  return algorithm === 'log' ? baseKey : `${baseKey}:gcra`;
}

/**
 * One atomic rate-limit check on one key, on Redis's clock (`TIME`), so the nodes' clocks
 * never matter and every instance shares the state exactly; Redis 5+ replicates the
 * script's effects, not the script, which makes TIME safe here.
 *
 * 'log' — sliding-window log: one sorted-set member per unit, scored by its time (µs). A
 * check counts what is in (now - window, now], so no window anywhere holds more than
 * `limit` units.
 *
 * 'gcra' — generic cell rate algorithm: one string holding the theoretical arrival time
 * (TAT) as whole µs and a fraction, so a unit's interval (window / limit, possibly under a
 * µs) adds up without losing precision to a double's granularity at today's epoch. A unit
 * passes while TAT - now stays within the window: a burst of at most `limit` from idle,
 * then a steady `limit / window`.
 *
 * KEYS[1] the state. ARGV: limit, window (µs), cost, algorithm.
 * Returns { allowed (0|1), remaining, reset (µs since epoch), retry after (µs) }: reset is
 * when one more unit is back for an allowed check and when this cost passes for a refused
 * one. Numbers are formatted with %.0f: Lua's default number→string loses digits of a µs clock.
 */
export const RATE_LIMIT_SCRIPT = new RedisScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function us(x) return string.format('%.0f', x) end

if ARGV[4] == 'gcra' then
  local interval = window / limit
  local tatWhole, tatFraction = now, 0
  local stored = redis.call('GET', KEYS[1])
  if stored then
    local whole, fraction = string.match(stored, '^(%d+) (.+)$')
    whole, fraction = tonumber(whole), tonumber(fraction)
    if whole and fraction and (whole > now or (whole == now and fraction > 0)) then
      tatWhole, tatFraction = whole, fraction
    end
  end
  -- Units that fit in the window after 'ahead' µs of TAT beyond now (floor, guarded against a last-digit miss).
  local function fitting(ahead) return math.floor((window - ahead) / interval + 1e-9) end
  local ahead = (tatWhole - now) + tatFraction
  if cost > limit then
    return { 0, math.max(fitting(ahead), 0), us(now + window), us(window) }
  end
  local step = tatFraction + cost * interval
  local newWhole = tatWhole + math.floor(step)
  local newFraction = step - math.floor(step)
  local newAhead = (newWhole - now) + newFraction
  if newAhead <= window + 1e-6 then
    if cost > 0 then
      redis.call('SET', KEYS[1], us(newWhole) .. ' ' .. string.format('%.17g', newFraction),
        'PX', math.ceil(newAhead / 1000) + 1000)
    end
    local remaining = math.min(math.max(fitting(newAhead), 0), limit)
    if remaining >= limit then return { 1, remaining, us(now), '0' } end
    -- The next unit is back once TAT has come (remaining + 1) intervals within the window.
    local back = newAhead - window + (remaining + 1) * interval
    return { 1, remaining, us(now + math.max(math.ceil(back), 0)), '0' }
  end
  local wait = math.ceil(newAhead - window)
  return { 0, math.max(fitting(ahead), 0), us(now + wait), us(wait) }
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', us(now - window))
local used = redis.call('ZCARD', KEYS[1])
local nowText = us(now)

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
  return { 1, limit - used, us(reset), '0' }
end

local remaining = math.max(limit - used, 0)
if cost > limit then
  -- Can never pass: say so with a full window.
  return { 0, remaining, us(now + window), us(window) }
end
-- Enough capacity for this cost is back once the (used + cost - limit)-th oldest unit has left.
local entry = redis.call('ZRANGE', KEYS[1], used + cost - limit - 1, used + cost - limit - 1, 'WITHSCORES')
local freeAt = tonumber(entry[2]) + window
return { 0, remaining, us(freeAt), us(freeAt - now) }
`);

/** What one rate-limit call decided, its times in microseconds of Redis's clock. */
export interface RateLimitAnswer {
  allowed: boolean;
  algorithm: RateLimitAlgorithm;
  /** Units that would still pass right after this check. */
  remaining: number;
  /** Allowed: when one more unit is back (now when none is used). Refused: when this cost passes. */
  resetUs: number;
  /** 0 when allowed; else how long until `cost` units fit (µs). */
  retryAfterUs: number;
}

/**
 * Takes `cost` units of the limit kept under `baseKey` (limit per windowUs) when they fit,
 * with the algorithm rateLimitAlgorithm(limit) picks.
 */
export async function takeRateLimit(
  client: RedisClient,
  baseKey: string,
  limit: number,
  windowUs: number,
  cost: number,
): Promise<RateLimitAnswer> {
  const algorithm = rateLimitAlgorithm(limit);
  const [allowed, remaining, resetUs, retryAfterUs] = (await RATE_LIMIT_SCRIPT.run(
    client,
    [rateLimitKey(baseKey, algorithm)],
    [limit, windowUs, cost, algorithm],
  )) as [number, number, string, string];
  return { allowed: allowed === 1, algorithm, remaining, resetUs: Number(resetUs), retryAfterUs: Number(retryAfterUs) };
}
