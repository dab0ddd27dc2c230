import { KeyRecord } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';

import { compileKey } from '../key-records/compiled-key';
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
