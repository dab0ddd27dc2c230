import { parseRetryAfter } from './errors';

export interface RetryPolicy {
  /** Retries after the first attempt (default 2: three attempts in all). */
  maxRetries: number;
  /** The first back-off; each retry doubles it (default 250 ms). */
  baseDelayMs: number;
  /** No back-off, and no Retry-After honoured, is longer than this (default 10 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, baseDelayMs: 250, maxDelayMs: 10_000 };

/** The answers worth another attempt: rate limited, or a gateway or dependency briefly down. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * How long to wait before retry number `retry` (1 for the first): exponential back-off
 * with full jitter (a random wait from half to all of base × 2^(retry−1), capped), so
 * many clients failing at once do not come back at once. `random` is Math.random's
 * contract (0 ≤ r < 1), a parameter so the arithmetic can be tested.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * The wait before the next attempt, or null when there should be none: the server's
 * Retry-After when it sent one (capped by maxDelayMs: a longer wait is the caller's call,
 * so the error goes back instead), otherwise the back-off.
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfter: string | null,
  nowMs = Date.now(),
  random: () => number = Math.random,
): number | null {
  if (retry > policy.maxRetries) return null;
  const asked = parseRetryAfter(retryAfter, nowMs);
  if (asked !== null) return asked > policy.maxDelayMs ? null : asked;
  return backoffDelayMs(retry, policy, random);
}
