import { normalizeRequestPath } from './request-path';

describe(normalizeRequestPath.name, () => {
  it.each([
    // Already normal: returned as they are.
    ['/v1/public/items', '/v1/public/items'],
    ['/', '/'],
    ['/v1/files/a.txt', '/v1/files/a.txt'],
    ['/v1/items/', '/v1/items/'],
    // The query string says nothing about the endpoint (a `#` inside it is query text).
    ['/v1/public/x?limit=2', '/v1/public/x'],
    ['/v1/public/x?a=/../admin#f', '/v1/public/x'],
    ['/v1/public/x?next=%2F..%2Fadmin', '/v1/public/x'],
    // Dot segments are resolved (RFC 3986 §5.2.4).
    ['/v1/public/../admin/users', '/v1/admin/users'],
    ['/v1/public/./items', '/v1/public/items'],
    ['/v1/items/..', '/v1/'],
    ['/v1/items/.', '/v1/items/'],
    ['/v1/a/b/../../c', '/v1/c'],
    ['/v1/public/..', '/v1/'],
    ['/v1/public/../admin/users?x=1', '/v1/admin/users'],
    // Escaped dots are dots.
    ['/v1/public/%2e%2e/admin/users', '/v1/admin/users'],
    ['/v1/public/%2E%2E/admin/users', '/v1/admin/users'],
    ['/v1/public/%2E%2e/admin/users', '/v1/admin/users'],
    ['/v1/public/.%2e/admin/users', '/v1/admin/users'],
    ['/v1/public/%2e./admin/users', '/v1/admin/users'],
    ['/v1/public/%2e/items', '/v1/public/items'],
    ['/v1/items/%2e%2e', '/v1/'],
    // Unreserved escapes are decoded, the others uppercased.
    ['/v1/%7Euser', '/v1/~user'],
    ['/v1/%7euser', '/v1/~user'],
    ['/v1/%61%62%2D%5F', '/v1/ab-_'],
    ['/v1/a%3fb', '/v1/a%3Fb'],
    ['/v1/caf%c3%a9', '/v1/caf%C3%A9'],
    ['/v1/%25', '/v1/%25'],
    ['/v1/%252e%252e/admin', '/v1/%252e%252e/admin'],
    // Not dot segments.
    ['/v1/public/...', '/v1/public/...'],
    ['/v1/public/..a/b', '/v1/public/..a/b'],
    ['/v1/public/.well-known', '/v1/public/.well-known'],
    // Empty segments stay as they are when no dot segment could resolve differently across them.
    ['/v1//public', '/v1//public'],
    ['/v1/public//x', '/v1/public//x'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeRequestPath(input)).toBe(expected);
  });

  it.each([
    // A `#`: no request target has a fragment, and an upstream may read what follows as path.
    ['/v1/public/x#top'],
    ['/v1/public/x#/../../admin/users'],
    ['/v1/public/x#f?a=1'],
    // Longer than any path judged.
    [`/v1/public/${'a'.repeat(4096)}`],
    // Climbing above the root.
    ['/..'],
    ['/../admin'],
    ['/v1/../../admin'],
    ['/%2e%2e/admin'],
    // Encoded slashes and backslashes, raw backslashes, NULs.
    ['/v1/public%2F..%2Fadmin'],
    ['/v1/public/%2f'],
    ['/v1/public/..%2Fadmin'],
    ['/v1/public/..%5Cadmin'],
    ['/v1/public/%5c'],
    ['/v1/public\\..\\admin'],
    ['/v1/public/\\'],
    ['/v1/public/a\\b'],
    ['/v1/public/%00'],
    ['/v1/public/x\0'],
    // Invalid percent-encoding.
    ['/v1/public/%'],
    ['/v1/public/%2'],
    ['/v1/public/%zz'],
    ['/v1/public/%%32%65'],
    // A path parameter on a dot segment (Tomcat and Spring resolve `..;x` as `..`).
    ['/v1/public/..;/admin'],
    ['/v1/public/..;jsessionid=1/admin'],
    ['/v1/public/.;/admin'],
    ['/v1/public/%2e%2e;/admin'],
    // A dot segment next to an empty one: `/a//../b` is `/a/b` to some servers and `/b` to others.
    ['/v1/public//../admin'],
    ['/v1//./admin'],
    ['/v1/public/..//admin'],
    // Not an absolute path.
    ['v1/public/../admin'],
    ['../v1/admin'],
    ['http://host/v1/public/../admin'],
  ])('refuses %j as ambiguous', (input) => {
    expect(normalizeRequestPath(input)).toBeNull();
  });
});
