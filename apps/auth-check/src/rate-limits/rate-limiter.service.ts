import { Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { isRedisAway, RedisService, takeRateLimit, withDeadline } from '@latchkey/platform';

/**
 * A key's rate limit: up to EXACT_LOG_MAX_LIMIT, at most `limit` units in any
 * `window_seconds`; above it, GCRA's steady `limit / window_seconds` with a burst of
 * at most `limit` (docs/decisions/0011-rate-limit-state-bounded-per-key.md).
 */
export interface RateLimitRule {
  limit: number;
  window_seconds: number;
}

export interface RateLimitOutcome {
  allowed: boolean;
  limit: number;
  /** Units that would still pass right after this check. While degraded it is unknown and reported as 0. */
  remaining: number;
  /**
   * For an allowed check, when one more unit is back (the oldest leaves the log's
   * window, or GCRA frees its next interval; now when nothing is used); for a
   * refused one, when this check's cost would pass.
   */
  resetAt: Date;
  /** 0 when allowed; otherwise whole seconds (at least 1) until the check would pass. */
  retryAfterSeconds: number;
  /** Redis could not be asked: the verdict follows AUTH_REDIS_FAIL_MODE. */
  degraded: boolean;
}

/** A rate-limit check is on every request's path: a Redis slower than this counts as away. */
export const RATE_LIMIT_DEADLINE_MS = 250;
/** How often an outage is logged at most (it is on every request). */
const WARN_INTERVAL_MS = 10_000;

/**
 * Rate limits shared by every auth-check instance through one atomic Lua script
 * (rate-limit.script.ts): exact log up to EXACT_LOG_MAX_LIMIT, GCRA above. Never throws: when Redis is away the check
 * passes or fails as AUTH_REDIS_FAIL_MODE says (open by default, as Kong's
 * fault_tolerant) and says `degraded`.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly failOpen: boolean;
  private lastWarnAt = 0;

  constructor(
    config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.failOpen = config.get('AUTH_REDIS_FAIL_MODE') === 'open';
  }

  async consume(keyId: string, rule: RateLimitRule, cost = 1): Promise<RateLimitOutcome> {
    const limit = Math.max(0, Math.floor(rule.limit));
    const windowSeconds = Math.max(1, Math.floor(rule.window_seconds));
    const units = Number.isFinite(cost) ? Math.max(0, Math.ceil(cost)) : 1;
    try {
      if (isRedisAway(this.redis.client)) throw new Error(`redis is ${this.redis.client.status}`);
      const taken = await withDeadline(
        takeRateLimit(this.redis.client, this.redis.key('rl', keyId, String(windowSeconds)), limit, windowSeconds * 1_000_000, units),
        RATE_LIMIT_DEADLINE_MS,
        `rate limit check took longer than ${RATE_LIMIT_DEADLINE_MS} ms`,
      );
      return {
        allowed: taken.allowed,
        limit,
        remaining: taken.remaining,
        resetAt: new Date(Math.ceil(taken.resetUs / 1_000)),
        retryAfterSeconds: taken.allowed ? 0 : Math.max(1, Math.ceil(taken.retryAfterUs / 1_000_000)),
        degraded: false,
      };
    } catch (error) {
      this.warn(error);
      return {
        allowed: this.failOpen,
        limit,
        remaining: 0,
        resetAt: new Date(Date.now() + windowSeconds * 1_000),
        retryAfterSeconds: this.failOpen ? 0 : 1,
        degraded: true,
      };
    }
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(
      `rate limits degraded (fail ${this.failOpen ? 'open' : 'closed'}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
