import { hasDotSegment, isEndpointPathPattern, normalizePercentEncoding } from './endpoint-path';

describe(normalizePercentEncoding.name, () => {
  it('decodes only unreserved characters and uppercases the other escapes', () => {
    expect(normalizePercentEncoding('/a%41%7a%30%2d%2e%5f%7e')).toBe('/aAz0-._~');
    expect(normalizePercentEncoding('/a%20b%2bc%40')).toBe('/a%20b%2Bc%40');
    expect(normalizePercentEncoding('/plain')).toBe('/plain');
    expect(normalizePercentEncoding('/a%2Fb')).toBeNull();
    expect(normalizePercentEncoding('/a%g0')).toBeNull();
  });
});

describe(hasDotSegment.name, () => {
  it('finds . and .. segments (and ..;x), not dots inside a segment', () => {
    expect(hasDotSegment('/v1/../admin')).toBe(true);
    expect(hasDotSegment('/v1/.')).toBe(true);
    expect(hasDotSegment('/v1/..;x/admin')).toBe(true);
    expect(hasDotSegment('/v1/a.b/...')).toBe(false);
    expect(hasDotSegment('/v1/items')).toBe(false);
  });
});

describe(isEndpointPathPattern.name, () => {
  it.each(['/v1/payments/*', '/v1/items/{id}', '/v1/%7Euser', '/v1/a.b/...', '/', "/v1/x;y=1/@me/!$&'()+,:"])('accepts %p', (pattern) => {
    expect(isEndpointPathPattern(pattern)).toBe(true);
  });

  it.each([
    'v1/relative',
    '',
    '/v1/../admin',
    '/v1/%2e%2e/admin',
    '/v1/.%2E;x/admin',
    '/v1/./x',
    '/v1/a%2Fb',
    '/v1/a%5cb',
    '/v1/a%00',
    '/v1/%g0',
    '/v1/100%',
    '/v1/a\\b',
    '/v1/a b',
    '/v1/a?b',
    '/v1/a#b',
  ])('refuses %p', (pattern) => {
    expect(isEndpointPathPattern(pattern)).toBe(false);
  });
});
