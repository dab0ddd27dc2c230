import { Logger } from '@nestjs/common';

import { AppError, RedisService } from '@latchkey/platform';

/** Failed management-key authentications one client address may make inside the window. */
export const MANAGEMENT_KEY_MAX_FAILURES_PER_ADDRESS = 30;
/** The window, counted from the address's last failure; a locked address waits this long. */
export const MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS = 600;

/**
 * Counts bad management tokens (malformed, unknown, revoked, expired) per client
 * address in Redis, so every instance counts together; past the limit every management
 * key from that address is refused with 429 until the window passes, a valid one too,
 * or a 200 among 429s would still tell a guess apart. A good token costs one GET; a bad
 * one an INCR as well. When Redis is unreachable the gate opens: at about 190 random
 * bits a token is not guessed in the meantime, and keys keep working
 * (docs/api-conventions.md#management-keys).
 */
export class ManagementKeyFailureThrottle {
  private readonly logger = new Logger(ManagementKeyFailureThrottle.name);

  constructor(private readonly redis: RedisService) {}

  /** Throws the 429 when the address is over its limit. */
  async assertAllowed(ip: string): Promise<void> {
    let failures: number;
    let ttlSeconds: number;
    try {
      const key = this.key(ip);
      const results = await this.redis.client.multi().get(key).ttl(key).exec();
      failures = Number(results?.[0]?.[1] ?? 0);
      ttlSeconds = Number(results?.[1]?.[1] ?? -1);
    } catch (error) {
      this.logger.warn({ msg: 'management key failure counter unreadable; not throttling', err: error });
      return;
    }
    if (failures >= MANAGEMENT_KEY_MAX_FAILURES_PER_ADDRESS) {
      throw new AppError('TOO_MANY_REQUESTS', 'Too many invalid management keys from this address; try again later.', {
        retryAfterSeconds: ttlSeconds > 0 ? ttlSeconds : MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS,
      });
    }
  }

  async recordFailure(ip: string): Promise<void> {
    try {
      const key = this.key(ip);
      await this.redis.client.multi().incr(key).expire(key, MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS).exec();
    } catch (error) {
      this.logger.warn({ msg: 'management key failure not counted', err: error });
    }
  }

  private key(ip: string): string {
    return this.redis.key('management-key-failures', 'ip', ip);
  }
}
