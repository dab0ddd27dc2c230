import { refusalFor } from './verdict-refusal';

describe(refusalFor.name, () => {
  it.each([
    ['MALFORMED', 401],
    ['NOT_FOUND', 401],
    ['DISABLED', 401],
    ['EXPIRED', 401],
    ['REVOKED', 401],
    ['WRONG_ENVIRONMENT', 403],
    ['IP_NOT_ALLOWED', 403],
    ['REFERRER_NOT_ALLOWED', 403],
    ['ENDPOINT_NOT_ALLOWED', 403],
    ['INSUFFICIENT_PERMISSIONS', 403],
    ['INVALID_SIGNATURE', 403],
    ['RATE_LIMITED', 429],
    ['QUOTA_EXCEEDED', 429],
  ] as const)('answers %s with %i, in the error envelope', (code, status) => {
    const refusal = refusalFor({ valid: false, code });
    expect(refusal.status).toBe(status);
    expect(refusal.body.error.code).toBe(code);
    expect('www-authenticate' in refusal.headers).toBe(status === 401);
  });

  it('says when a rate limit frees up, rounded up to a whole second', () => {
    const now = Date.parse('2026-12-06T12:00:00.000Z');
    const refusal = refusalFor(
      { valid: false, code: 'RATE_LIMITED', rate_limit: { limit: 5, remaining: 0, reset_at: '2026-12-06T12:00:02.100Z' } },
      now,
    );
    expect(refusal.headers).toEqual({ 'retry-after': '3', 'ratelimit-limit': '5', 'ratelimit-remaining': '0' });
    // A server before quota.reset_at does not say when a quota refills: no Retry-After is guessed.
    expect(refusalFor({ valid: false, code: 'QUOTA_EXCEEDED', quota: { remaining: 0 } }, now).headers).toEqual({});
  });
});
