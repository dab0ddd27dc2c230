import { breakerResetTimeoutMs, retryDelayMs } from './retry-schedule';

const failed = (statusCode: number | null, retryAfterMs: number | null = null) => ({ statusCode, retryAfterMs });

describe('the webhook retry schedule', () => {
  const schedule = [1_000, 10_000, 60_000];

  it('waits the schedule entry of the attempt that failed, and gives up after the last', () => {
    const middle = () => 0.5;
    expect(retryDelayMs(schedule, 1, failed(500), middle)).toBe(1_000);
    expect(retryDelayMs(schedule, 2, failed(null), middle)).toBe(10_000);
    expect(retryDelayMs(schedule, 3, failed(502), middle)).toBe(60_000);
    expect(retryDelayMs(schedule, 4, failed(500), middle)).toBeNull();
    expect(retryDelayMs([], 1, failed(500), middle)).toBeNull();
  });

  it('jitters each wait by at most a tenth either way', () => {
    expect(retryDelayMs(schedule, 2, failed(500), () => 0)).toBe(9_000);
    expect(retryDelayMs(schedule, 2, failed(500), () => 0.999_999)).toBeCloseTo(11_000, 0);
    for (let i = 0; i < 200; i += 1) {
      const wait = retryDelayMs(schedule, 1, failed(500))!;
      expect(wait).toBeGreaterThanOrEqual(900);
      expect(wait).toBeLessThanOrEqual(1_100);
    }
  });

  it('waits at least what a 429 or a 503 asks in Retry-After, and ignores it on other statuses', () => {
    const low = () => 0;
    expect(retryDelayMs(schedule, 1, failed(429, 30_000), low)).toBe(30_000);
    expect(retryDelayMs(schedule, 1, failed(503, 30_000), low)).toBe(30_000);
    // A shorter Retry-After never makes the wait shorter than the schedule's.
    expect(retryDelayMs(schedule, 2, failed(429, 1_000), low)).toBe(9_000);
    expect(retryDelayMs(schedule, 1, failed(500, 30_000), low)).toBe(900);
    expect(retryDelayMs(schedule, 1, failed(429, null), low)).toBe(900);
    // Retry-After does not extend an exhausted schedule.
    expect(retryDelayMs(schedule, 4, failed(429, 30_000), low)).toBeNull();
  });

  it('gives the breaker a reset timeout of five first waits, within a second and a minute', () => {
    expect(breakerResetTimeoutMs([5_000, 30_000])).toBe(25_000);
    expect(breakerResetTimeoutMs([200, 400])).toBe(1_000);
    expect(breakerResetTimeoutMs([60_000])).toBe(60_000);
    expect(breakerResetTimeoutMs([])).toBe(25_000);
  });
});
