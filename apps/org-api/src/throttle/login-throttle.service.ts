import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { sha256Hex } from '@latchkey/crypto';
import { AppError, RedisService } from '@latchkey/platform';

/** Failures before each failed attempt is answered more slowly. */
const FREE_FAILURES = 2;
const MAX_DELAY_MS = 2_000;
/** One address may fail this many times more than one account (a shared NAT has many users). */
const IP_FACTOR = 4;

/** How long to hold a failed answer: nothing at first, then doubling up to a cap (progressive slow-down). */
export function loginFailureDelayMs(accountAttempts: number): number {
  if (accountAttempts <= FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, 250 * 2 ** (accountAttempts - FREE_FAILURES - 1));
}

/**
 * What is being counted: failed logins, and (in their own counters) signups, mails
 * asked for again (verification) and password-reset requests, which are counted
 * whether or not the address has an account, and invitations mailed (new or resent),
 * counted per invited address and per inviting organisation instead of client address.
 */
export type ThrottledAction = 'login' | 'signup' | 'password-reset' | 'verification-resend' | 'invitation';

const WHAT: Record<ThrottledAction, string> = {
  login: 'failed logins',
  signup: 'signups',
  'password-reset': 'password reset requests',
  'verification-resend': 'verification mails',
  invitation: 'invitations',
};

export interface LoginAttempt {
  action: ThrottledAction;
  email: string;
  /** What the second counter counts by: the client address, or for invitations the inviting organisation's id. */
  scope: string;
  /** Attempts on this account inside the window, this one included. */
  accountAttempts: number;
}

/**
 * Slows and then locks repeated failed logins, per account and per address, in
 * Redis so every org-api instance counts together. An attempt is counted BEFORE the
 * password is checked, so parallel guesses cannot all slip past the limit; a
 * successful login then takes its count back. A lock lasts LOGIN_LOCK_SECONDS from
 * the last attempt. When Redis is unreachable login answers 503: we do not check
 * passwords without the counters.
 */
@Injectable()
export class LoginThrottleService {
  private readonly maxFailures: number;
  private readonly windowSeconds: number;
  private readonly signupsPerAddress: number;
  private readonly invitationsPerOrg: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.maxFailures = config.get('LOGIN_MAX_FAILURES');
    this.windowSeconds = config.get('LOGIN_LOCK_SECONDS');
    this.signupsPerAddress = config.get('SIGNUP_MAX_PER_ADDRESS');
    this.invitationsPerOrg = config.get('INVITATIONS_MAX_PER_ORG');
  }

  /**
   * Counts the attempt; throws 429 when the account or the scope is over its limit.
   * The scope is the client address, except for invitations: the inviting organisation's id, since the mails come from it.
   */
  async begin(email: string, scope: string, action: ThrottledAction = 'login'): Promise<LoginAttempt> {
    // One MULTI per key: the two keys may live on different Redis Cluster shards.
    const count = (key: string) =>
      this.redis.client
        .multi()
        .incr(key)
        .expire(key, this.windowSeconds)
        .exec()
        .then((results) => Number(results?.[0]?.[1] ?? 0));
    const [accountAttempts, scopeAttempts] = await this.guard(() =>
      Promise.all([count(this.accountKey(action, email)), count(this.scopeKey(action, scope))]),
    );
    if (accountAttempts > this.maxFailures) {
      throw new AppError(
        action === 'login' ? 'ACCOUNT_LOCKED' : 'TOO_MANY_REQUESTS',
        `Too many ${WHAT[action]} for this account; try again later.`,
        {
          retryAfterSeconds: this.windowSeconds,
        },
      );
    }
    const scopeLimit =
      action === 'signup' ? this.signupsPerAddress : action === 'invitation' ? this.invitationsPerOrg : this.maxFailures * IP_FACTOR;
    if (scopeAttempts > scopeLimit) {
      throw new AppError(
        action === 'login' ? 'TOO_MANY_LOGIN_ATTEMPTS' : 'TOO_MANY_REQUESTS',
        `Too many ${WHAT[action]} from this ${action === 'invitation' ? 'organisation' : 'address'}; try again later.`,
        { retryAfterSeconds: this.windowSeconds },
      );
    }
    return { action, email, scope, accountAttempts };
  }

  failureDelayMs(attempt: LoginAttempt): number {
    return loginFailureDelayMs(attempt.accountAttempts);
  }

  /** The right password: the account starts afresh and the scope gets this attempt back. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.guard(() =>
      Promise.all([
        this.redis.client.del(this.accountKey(attempt.action, attempt.email)),
        this.redis.client.decr(this.scopeKey(attempt.action, attempt.scope)),
      ]),
    );
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch {
      throw AppError.unavailable('This is unavailable for a moment; retry shortly.');
    }
  }

  // Emails are hashed in key names so Redis never holds a list of our users' addresses.
  // Logins keep their original key names, so counters survive a deploy.
  private accountKey(action: ThrottledAction, email: string): string {
    return this.redis.key(action === 'login' ? 'login-attempts' : `${action}-attempts`, 'account', sha256Hex(email));
  }

  // The segment stays 'ip' for every scope, organisations included, so counters survive a deploy too.
  private scopeKey(action: ThrottledAction, scope: string): string {
    return this.redis.key(action === 'login' ? 'login-attempts' : `${action}-attempts`, 'ip', scope);
  }
}
