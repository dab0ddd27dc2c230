import { EXACT_LOG_MAX_LIMIT, rateLimitAlgorithm, rateLimitKey } from './rate-limit.script';

describe(rateLimitAlgorithm.name, () => {
  it('keeps the exact log up to the threshold and GCRA above it', () => {
    expect(rateLimitAlgorithm(1)).toBe('log');
    expect(rateLimitAlgorithm(EXACT_LOG_MAX_LIMIT)).toBe('log');
    expect(rateLimitAlgorithm(EXACT_LOG_MAX_LIMIT + 1)).toBe('gcra');
    expect(rateLimitAlgorithm(1_000_000)).toBe('gcra');
  });
});

describe(rateLimitKey.name, () => {
  it('keeps the log under the old name and gives GCRA its own, on the same hash tag', () => {
    expect(rateLimitKey('lk{t}:rl:key_1:60', 'log')).toBe('lk{t}:rl:key_1:60');
    expect(rateLimitKey('lk{t}:rl:key_1:60', 'gcra')).toBe('lk{t}:rl:key_1:60:gcra');
  });
});
