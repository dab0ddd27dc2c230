import { createHmac } from 'node:crypto';

import { EMPTY_BODY_SHA256, parseSignatureHeader, sha256Hex, signaturePayload, signRequest } from './request-signature';

describe('request signatures', () => {
  const request = { timestamp: 1_767_225_600, method: 'post', path: '/v1/orders?dry_run=1', bodySha256: sha256Hex('{"a":1}') };

  it('signs t, the upper-case method, the path with its query and the body hash, one per line', () => {
    expect(signaturePayload(request)).toBe(`1767225600\nPOST\n/v1/orders?dry_run=1\n${sha256Hex('{"a":1}')}`);
  });

  it('builds the header as t=<seconds>,v1=<hex HMAC-SHA256>', () => {
    const expected = createHmac('sha256', 'whsec').update(signaturePayload(request)).digest('hex');
    expect(signRequest('whsec', request)).toBe(`t=1767225600,v1=${expected}`);
  });

  it('hashes an empty body as sha256 of the empty string', () => {
    expect(EMPTY_BODY_SHA256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('reads several v1 values, ignores unknown schemes and spaces, and lower-cases hex', () => {
    const a = 'A'.repeat(64);
    const b = 'b'.repeat(64);
    expect(parseSignatureHeader(` t=12 , v1=${a},v0=zzz, v2=${b} ,v1=${b}`)).toEqual({ timestamp: 12, signatures: ['a'.repeat(64), b] });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['no signature', 't=12'],
    ['a non-numeric timestamp', `t=12a,v1=${'a'.repeat(64)}`],
    ['two timestamps', `t=12,t=13,v1=${'a'.repeat(64)}`],
    ['a short signature', `t=12,v1=${'a'.repeat(63)}`],
    ['non-hex signature', `t=12,v1=${'g'.repeat(64)}`],
    ['an oversized header', `t=12,v1=${'a'.repeat(64)},${'x'.repeat(1_100)}`],
  ])('rejects a header that is %s', (_, header) => {
    expect(parseSignatureHeader(header)).toBeNull();
  });

  it('keeps at most five signatures', () => {
    const header = ['t=1', ...Array.from({ length: 8 }, (_, index) => `v1=${String(index).repeat(64)}`)].join(',');
    expect(parseSignatureHeader(header)?.signatures).toHaveLength(5);
  });
});
