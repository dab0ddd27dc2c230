import { backoffDelayMs, DEFAULT_RETRY_POLICY, retryDelayMs } from './retry';

describe('retry back-off', () => {
  const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per retry, jittered between half and all of the step, capped', () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(150);
  });

  it('stops after maxRetries', () => {
    expect(retryDelayMs(3, policy, null, 0, () => 0)).toBe(200);
    expect(retryDelayMs(4, policy, null, 0, () => 0)).toBeNull();
    expect(retryDelayMs(DEFAULT_RETRY_POLICY.maxRetries + 1, DEFAULT_RETRY_POLICY, null)).toBeNull();
  });

  it('honours Retry-After in seconds or as a date, and gives up when it asks for longer than maxDelayMs', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(retryDelayMs(1, policy, '1', now)).toBe(1_000);
    expect(retryDelayMs(1, policy, '0', now)).toBe(0);
    expect(retryDelayMs(1, policy, new Date(now + 500).toUTCString(), now)).toBe(0); // HTTP dates have whole seconds
    expect(retryDelayMs(1, policy, 'Sun, 06 Dec 2026 12:00:01 GMT', now)).toBe(1_000);
    expect(retryDelayMs(1, policy, '30', now)).toBeNull();
    expect(retryDelayMs(1, policy, 'soon', now, () => 0)).toBe(50);
  });
});
