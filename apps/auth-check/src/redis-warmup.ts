import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';

import { loadScripts, RATE_LIMIT_SCRIPT, RedisService } from '@latchkey/platform';

import { QUOTA_LEDGER_SCRIPT } from './quotas/quota-ledger.script';

/** How long a start waits for Redis before it answers checks without it (degraded, as during an outage). */
const REDIS_WARMUP_MS = 2_000;

/**
 * Before the HTTP server takes checks: waits (bounded) for the Redis connection and
 * loads the rate-limit and quota scripts. Without it the first checks after a start
 * paid for the connection and for sending each script within their 250 ms deadline,
 * and on a busy machine came back degraded (passing unlimited under the default
 * fail-open mode).
 */
@Injectable()
export class RedisWarmup implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisWarmup.name);

  constructor(private readonly redis: RedisService) {}

  async onApplicationBootstrap(): Promise<void> {
    const ready = await loadScripts(this.redis.client, [RATE_LIMIT_SCRIPT, QUOTA_LEDGER_SCRIPT], REDIS_WARMUP_MS);
    if (!ready) this.logger.warn(`redis not ready within ${REDIS_WARMUP_MS} ms: rate limits and quotas answer degraded until it is`);
  }
}
