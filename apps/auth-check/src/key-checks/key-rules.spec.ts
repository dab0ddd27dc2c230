import { KeyRecord } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';

import { compileKey } from '../key-records/compiled-key';
import { compilePathGlob } from '../key-records/path-glob';
import { endpointAllowed, hasPermissions, ipAllowed, permissionCovers, referrerAllowed } from './key-rules';

const box = new SecretBox('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');

function keyWith(restrictions: Partial<KeyRecord['restrictions']>) {
  const record = {
    id: 'key_1',
    restrictions: { ip_allowlist: [], referrers: [], endpoints: [], ...restrictions },
    signing_secret_sealed: null,
    previous_signing_secret_sealed: null,
  } as unknown as KeyRecord;
  return compileKey(record, box);
}

describe('key rules', () => {
  it('matches IPv4 and IPv6 CIDRs, IPv4-mapped addresses and single addresses', () => {
    const sut = keyWith({ ip_allowlist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7/32', '::ffff:198.51.100.0/120'] });
    expect(ipAllowed(sut, '10.200.1.1')).toBe(true);
    expect(ipAllowed(sut, '::ffff:10.200.1.1')).toBe(true);
    expect(ipAllowed(sut, '2001:db8:ffff::1')).toBe(true);
    expect(ipAllowed(sut, '192.0.2.7')).toBe(true);
    expect(ipAllowed(sut, '198.51.100.9')).toBe(true);
    expect(ipAllowed(sut, '192.0.2.8')).toBe(false);
    expect(ipAllowed(sut, '11.0.0.1')).toBe(false);
    expect(ipAllowed(sut, '2001:db9::1')).toBe(false);
    expect(ipAllowed(sut, null)).toBe(false);
    expect(ipAllowed(keyWith({}), null)).toBe(true);
  });

  it('matches referrer origins with a * subdomain label and * ports', () => {
    const sut = keyWith({ referrers: ['https://*.example.com', '*://shop.test:*', 'https://plain.io:443'] });
    expect(referrerAllowed(sut, 'https://a.example.com/x')).toBe(true);
    expect(referrerAllowed(sut, 'https://A.Example.com')).toBe(true);
    expect(referrerAllowed(sut, 'https://a.b.example.com/')).toBe(false);
    expect(referrerAllowed(sut, 'https://example.com/')).toBe(false);
    expect(referrerAllowed(sut, 'https://a.example.com:8443/')).toBe(false);
    expect(referrerAllowed(sut, 'http://shop.test:8080/')).toBe(true);
    expect(referrerAllowed(sut, 'https://shop.test/')).toBe(true);
    expect(referrerAllowed(sut, 'https://plain.io/')).toBe(true);
    expect(referrerAllowed(sut, 'ftp://shop.test/')).toBe(false);
    expect(referrerAllowed(sut, 'not a url')).toBe(false);
  });

  it('matches endpoints by method and path glob', () => {
    const sut = keyWith({
      endpoints: [
        { method: 'get', path: '/v1/users/{id}' },
        { method: '*', path: '/v1/files/*' },
      ],
    });
    expect(endpointAllowed(sut, 'GET', '/v1/users/u_1')).toBe(true);
    expect(endpointAllowed(sut, 'GET', '/v1/users/u_1/keys')).toBe(false);
    expect(endpointAllowed(sut, 'PUT', '/v1/files/a/b.txt?v=1')).toBe(true);
    expect(endpointAllowed(sut, 'PUT', '/v1/files/')).toBe(false);
    expect(endpointAllowed(sut, 'POST', '/v1/users/u_1')).toBe(false);
  });

  describe('endpoint paths that climb out of what the key allows', () => {
    const sut = keyWith({
      endpoints: [
        { method: 'GET', path: '/v1/public/*' },
        { method: 'GET', path: '/v1/items/{id}' },
        { method: 'GET', path: '/v1/%7Euser/{id}' },
      ],
    });

    it.each([
      '/v1/public/../admin/users',
      '/v1/public/%2e%2e/admin/users',
      '/v1/public/%2E%2e/admin/users',
      '/v1/public/%2E%2e/',
      '/v1/public/.%2e/admin/users',
      '/v1/public/x/../../admin/users',
      '/v1/public/..%2Fadmin/users',
      '/v1/public%2F..%2Fadmin/users',
      '/v1/public/..%5Cadmin/users',
      '/v1/public\\..\\admin\\users',
      '/v1/public/..;/admin/users',
      '/v1/public//../admin/users',
      '/v1/public/%00',
      '/v1/public/%zz',
      '/v1/public/..',
      '/v1/public/.',
      '/v1/public//',
      '/v1/items/..',
      '/v1/items/%2e%2e',
      '/v1/items/.',
      '/v1/items/',
      '/v1/items//',
      '/v1/items/../public/x/../../admin',
    ])('refuses %s', (path) => {
      expect(endpointAllowed(sut, 'GET', path)).toBe(false);
    });

    it.each([
      '/v1/public/a',
      '/v1/public/a/b/c?x=../../admin',
      '/v1/public/a/./b',
      '/v1/public/a/../b',
      '/v1/public/%61',
      '/v1/public/a/',
      '/v1/public/a.json',
      '/v1/public/...',
      '/v1/items/i_1',
      '/v1/items/i_1.json',
      '/v1/items/x/../i_1',
      '/v1/~user/u_1',
      '/v1/%7euser/u_1',
    ])('allows %s', (path) => {
      expect(endpointAllowed(sut, 'GET', path)).toBe(true);
    });

    it('does not restrict a key without endpoint restrictions', () => {
      expect(endpointAllowed(keyWith({}), 'GET', '/v1/public/../admin/users')).toBe(true);
      expect(endpointAllowed(keyWith({}), 'GET', '/v1/public/%2F')).toBe(true);
    });
  });

  describe(compilePathGlob.name, () => {
    it('never lets * or {name} stand for a dot segment or an empty one, even on a path not normalised', () => {
      const star = compilePathGlob('/v1/public/*');
      const id = compilePathGlob('/v1/items/{id}');
      const mid = compilePathGlob('/v1/*/items');
      for (const path of ['/v1/public/..', '/v1/public/../admin', '/v1/public/./x', '/v1/public/a/../../admin', '/v1/public/..;/x']) {
        expect(star.test(path)).toBe(false);
      }
      for (const path of ['/v1/public//', '/v1/public//admin', '/v1/public/a//b']) expect(star.test(path)).toBe(false);
      for (const path of ['/v1/items/..', '/v1/items/.', '/v1/items/', '/v1/items/..;x']) expect(id.test(path)).toBe(false);
      for (const path of ['/v1/../items', '/v1/./items', '/v1//items', '/v1/a//items']) expect(mid.test(path)).toBe(false);
      expect(star.test('/v1/public/a/b.txt')).toBe(true);
      expect(star.test('/v1/public/a/')).toBe(true);
      expect(star.test('/v1/public/...')).toBe(true);
      expect(id.test('/v1/items/..x')).toBe(true);
      expect(mid.test('/v1/a/b/items')).toBe(true);
      expect(compilePathGlob('/v1/files*').test('/v1/files/a')).toBe(true);
    });

    it('matches nothing for a pattern with a dot segment or an escape no normalised path holds', () => {
      for (const pattern of ['/v1/public/../admin', '/v1/%2e%2e/admin', '/v1/./x', '/v1/a%2Fb', '/v1/%zz', '/v1/a\\b']) {
        const sut = compilePathGlob(pattern);
        expect(sut.test(pattern)).toBe(false);
        expect(sut.test('/v1/admin')).toBe(false);
      }
    });
  });

  it('lets multi-wildcard patterns past the key budget match nothing, and keeps the ones within it', () => {
    const heavy = (i: number) => ({ method: 'GET', path: `/${'*x'.repeat(120)}/${i}` });
    // Each costs 243 characters: four fit in 1024, the fifth does not.
    const sut = keyWith({ endpoints: [heavy(0), heavy(1), heavy(2), heavy(3), heavy(4), { method: 'GET', path: '/v1/{id}' }] });
    const pathFor = (i: number) => `/${'ax'.repeat(120)}/${i}`;
    expect([0, 1, 2, 3, 4].map((i) => endpointAllowed(sut, 'GET', pathFor(i)))).toEqual([true, true, true, true, false]);
    // A one-wildcard pattern costs nothing against the budget.
    expect(endpointAllowed(sut, 'GET', '/v1/42')).toBe(true);
  });

  it('covers permissions scope by scope, a trailing * covering the rest', () => {
    expect(permissionCovers('payments:*', 'payments:read')).toBe(true);
    expect(permissionCovers('payments:*', 'payments:refunds:create')).toBe(true);
    expect(permissionCovers('payments:*', 'payments')).toBe(false);
    expect(permissionCovers('payments:*:read', 'payments:refunds:read')).toBe(true);
    expect(permissionCovers('payments:*:read', 'payments:refunds:write')).toBe(false);
    expect(permissionCovers('payments:read', 'payments:*')).toBe(false);
    expect(permissionCovers('payments:read', 'payments:read:all')).toBe(false);
    expect(hasPermissions(['a:read', 'b:*'], ['a:read', 'b:write'])).toBe(true);
    expect(hasPermissions(['a:read'], ['a:read', 'c:read'])).toBe(false);
    expect(hasPermissions([], undefined)).toBe(true);
  });
});
