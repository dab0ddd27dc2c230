import { Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { isRedisAway, RedisService, withDeadline } from '@latchkey/platform';

import { QUOTA_LEDGER_SCRIPT } from './quota-ledger.script';
import { quotaBucket, QuotaPeriod } from './quota-period';

/** A key's quota: at most `limit` units of cost per UTC day, UTC month, or in total. */
export interface QuotaRule {
  limit: number;
  period: QuotaPeriod;
}

export interface QuotaOutcome {
  allowed: boolean;
  /** Units left in the period after this check (never negative). While degraded it is unknown and reported as 0. */
  remaining: number;
  /** Redis could not be asked: the verdict follows AUTH_REDIS_FAIL_MODE. */
  degraded: boolean;
}

/** On every request's path, like the rate limit: a Redis slower than this counts as away. */
export const QUOTA_DEADLINE_MS = 250;
const WARN_INTERVAL_MS = 10_000;

/**
 * Per-key quotas in Redis: one counter per key and UTC period bucket, decremented
 * by the check's cost in one atomic script, never below zero. Never throws: when
 * Redis is away the check follows AUTH_REDIS_FAIL_MODE and says `degraded`.
 */
@Injectable()
export class QuotaLedgerService {
  private readonly logger = new Logger(QuotaLedgerService.name);
  private readonly failOpen: boolean;
  private lastWarnAt = 0;

  constructor(
    config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.failOpen = config.get('AUTH_REDIS_FAIL_MODE') === 'open';
  }

  async consume(keyId: string, quota: QuotaRule, cost: number): Promise<QuotaOutcome> {
    const limit = Math.max(0, Math.floor(quota.limit));
    const units = Number.isFinite(cost) ? Math.max(0, Math.ceil(cost)) : 1;
    const bucket = quotaBucket(quota.period, new Date());
    try {
      if (isRedisAway(this.redis.client)) throw new Error(`redis is ${this.redis.client.status}`);
      const reply = await withDeadline(
        QUOTA_LEDGER_SCRIPT.run(this.redis.client, [this.bucketKey(keyId, bucket.name)], [limit, units, bucket.expiresAt ?? 0]),
        QUOTA_DEADLINE_MS,
        `quota check took longer than ${QUOTA_DEADLINE_MS} ms`,
      );
      const [allowed, remaining] = reply as [number, number];
      return { allowed: allowed === 1, remaining, degraded: false };
    } catch (error) {
      this.warn(error);
      return { allowed: this.failOpen, remaining: 0, degraded: true };
    }
  }

  /** What is left in the current period, or null when Redis cannot say. */
  async remaining(keyId: string, quota: QuotaRule): Promise<number | null> {
    const limit = Math.max(0, Math.floor(quota.limit));
    const bucket = quotaBucket(quota.period, new Date());
    try {
      if (isRedisAway(this.redis.client)) return null;
      const used = await withDeadline(
        this.redis.client.get(this.bucketKey(keyId, bucket.name)),
        QUOTA_DEADLINE_MS,
        `quota read took longer than ${QUOTA_DEADLINE_MS} ms`,
      );
      return Math.max(limit - Number(used ?? 0), 0);
    } catch (error) {
      this.warn(error);
      return null;
    }
  }

  private bucketKey(keyId: string, bucket: string): string {
    return this.redis.key('quota', keyId, bucket);
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(
      `quotas degraded (fail ${this.failOpen ? 'open' : 'closed'}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
