import type { SendResult } from './webhook-sender';

/** Each wait is moved by up to ±10 %, so deliveries that failed together do not all come back together. */
export const RETRY_JITTER = 0.1;

/**
 * When a failed attempt's delivery is tried again: `schedule[n - 1]` after attempt n
 * (WEBHOOK_RETRY_SCHEDULE, the operator's list of waits), jittered, and never sooner
 * than a 429's or 503's Retry-After asks. Null once the schedule is exhausted: the
 * delivery has failed for good. `random` is Math.random, or a fixed draw in tests.
 */
export function retryDelayMs(
  schedule: readonly number[],
  attempt: number,
  result: Pick<SendResult, 'statusCode' | 'retryAfterMs'>,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  const jittered = base * (1 - RETRY_JITTER + random() * 2 * RETRY_JITTER);
  // Only these two statuses promise Retry-After means "not before"; on others it is ignored.
  const retryAfter = result.statusCode === 429 || result.statusCode === 503 ? (result.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter);
}

/**
 * How long an endpoint's open breaker waits before it lets a probe through: a few
 * first-retry waits (a 5 s schedule gives 25 s; tests' 200 ms gives 1 s), within
 * 1 s and a minute, so a breaker never outlasts the schedule it protects by much.
 */
export function breakerResetTimeoutMs(schedule: readonly number[]): number {
  return Math.min(60_000, Math.max(1_000, (schedule[0] ?? 5_000) * 5));
}
