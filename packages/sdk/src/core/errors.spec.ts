import {
  errorFromResponse,
  LatchkeyApiError,
  LatchkeyAuthenticationError,
  LatchkeyConflictError,
  LatchkeyError,
  LatchkeyNotFoundError,
  LatchkeyPermissionError,
  LatchkeyRateLimitError,
  LatchkeyUnavailableError,
  LatchkeyValidationError,
  parseRetryAfter,
} from './errors';

const headers = (values: Record<string, string> = {}) => ({ get: (name: string) => values[name] ?? null });

describe(errorFromResponse.name, () => {
  it('carries the envelope: code, message, details, request id', () => {
    const body = {
      success: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: 'name is required.',
        details: [{ field: 'name', message: 'required' }],
        request_id: 'req_1',
      },
    };
    const error = errorFromResponse(400, body, headers({ 'x-request-id': 'req_other' }));
    expect(error).toBeInstanceOf(LatchkeyValidationError);
    expect(error).toBeInstanceOf(LatchkeyError);
    expect(error).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'name is required.',
      details: [{ field: 'name', message: 'required' }],
      requestId: 'req_1',
      name: 'LatchkeyValidationError',
    });
  });

  it.each([
    [400, LatchkeyValidationError],
    [401, LatchkeyAuthenticationError],
    [403, LatchkeyPermissionError],
    [404, LatchkeyNotFoundError],
    [409, LatchkeyConflictError],
    [429, LatchkeyRateLimitError],
    [413, LatchkeyApiError],
    [500, LatchkeyApiError],
    [502, LatchkeyUnavailableError],
    [503, LatchkeyUnavailableError],
    [504, LatchkeyUnavailableError],
  ])('maps %i to its class', (status, type) => {
    expect(errorFromResponse(status, null, headers())).toBeInstanceOf(type);
  });

  it('reads a body that is not the envelope as HTTP_<status>, the request id from the header, Retry-After in seconds', () => {
    const error = errorFromResponse(429, '<html>', headers({ 'x-request-id': 'req_2', 'retry-after': '7' }));
    expect(error).toMatchObject({ code: 'HTTP_429', requestId: 'req_2', retryAfterSeconds: 7, details: [] });
  });

  it('makes every unavailable answer a 503, whatever came', () => {
    const error = errorFromResponse(502, null, headers());
    expect(error).toMatchObject({ status: 503, reason: 'unavailable' });
  });
});

describe(parseRetryAfter.name, () => {
  it('reads seconds and dates, and nothing else', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1_000)).toBe(4_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 9_000)).toBe(0);
    expect(parseRetryAfter('-1', 0)).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('')).toBeNull();
  });
});
