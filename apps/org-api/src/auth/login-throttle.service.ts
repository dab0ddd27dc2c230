import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { sha256Hex } from '@latchkey/crypto';
import { AppError, RedisService } from '@latchkey/platform';

/** Failures before each failed attempt is answered more slowly. */
const FREE_FAILURES = 2;
const MAX_DELAY_MS = 2_000;
/** One address may fail this many times more than one account (a shared NAT has many users). */
const IP_FACTOR = 4;

/**
 * Slows and then locks repeated failed logins, per account and per address, in
 * Redis so every org-api instance counts together. A lock lasts LOGIN_LOCK_SECONDS
 * from the last failure. When Redis is unreachable, login answers 503: we do not
 * guess passwords' fate without the counters.
 */
@Injectable()
export class LoginThrottleService {
  private readonly maxFailures: number;
  private readonly windowSeconds: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.maxFailures = config.get('LOGIN_MAX_FAILURES');
    this.windowSeconds = config.get('LOGIN_LOCK_SECONDS');
  }

  /** Throws 429 while the account or the address is locked. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const [account, address] = await this.read(email, ip);
    if (account.count >= this.maxFailures) {
      throw AppError.rateLimited('Too many failed logins for this account; try again later.', account.ttl, 'ACCOUNT_LOCKED');
    }
    if (address.count >= this.maxFailures * IP_FACTOR) {
      throw AppError.rateLimited('Too many failed logins from this address; try again later.', address.ttl, 'TOO_MANY_LOGIN_ATTEMPTS');
    }
  }

  /** Counts a failure and returns how long to hold the answer (progressive slow-down). */
  async recordFailure(email: string, ip: string): Promise<number> {
    const results = await this.guard(() =>
      this.redis.client
        .multi()
        .incr(this.accountKey(email))
        .expire(this.accountKey(email), this.windowSeconds)
        .incr(this.addressKey(ip))
        .expire(this.addressKey(ip), this.windowSeconds)
        .exec(),
    );
    const failures = Number(results?.[0]?.[1] ?? 0);
    if (failures <= FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, 250 * 2 ** (failures - FREE_FAILURES - 1));
  }

  async recordSuccess(email: string): Promise<void> {
    await this.guard(() => this.redis.client.del(this.accountKey(email)));
  }

  private async read(email: string, ip: string): Promise<{ count: number; ttl: number }[]> {
    const results = await this.guard(() =>
      this.redis.client
        .multi()
        .get(this.accountKey(email))
        .ttl(this.accountKey(email))
        .get(this.addressKey(ip))
        .ttl(this.addressKey(ip))
        .exec(),
    );
    const value = (index: number) => Number(results?.[index]?.[1] ?? 0);
    return [
      { count: value(0), ttl: Math.max(1, value(1)) },
      { count: value(2), ttl: Math.max(1, value(3)) },
    ];
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch {
      throw AppError.unavailable('Login is unavailable for a moment; retry shortly.');
    }
  }

  // Emails are hashed in key names so Redis never holds a list of our users' addresses.
  private accountKey(email: string): string {
    return this.redis.key('login-failures', 'account', sha256Hex(email));
  }

  private addressKey(ip: string): string {
    return this.redis.key('login-failures', 'ip', ip);
  }
}
