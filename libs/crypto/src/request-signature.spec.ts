import { createHmac } from 'node:crypto';

import { sha256Hex } from './hash-token';
import {
  EMPTY_BODY_SHA256,
  isSignatureTimely,
  parseSignatureHeader,
  replayGuardExpiresAt,
  SIGNATURE_MAX_FUTURE_SECONDS,
  SIGNATURE_TOLERANCE_SECONDS,
  signaturePayload,
  signRequest,
} from './request-signature';

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

  describe(isSignatureTimely.name, () => {
    const now = 1_767_225_600;

    it.each([
      ['five minutes old', now - 300, true],
      ['five minutes and a second old', now - 301, false],
      ['dated now', now, true],
      ['59 s ahead', now + 59, true],
      ['60 s ahead', now + 60, true],
      ['61 s ahead', now + 61, false],
      // Within the old "either side" tolerance, and now refused: see SIGNATURE_MAX_FUTURE_SECONDS.
      ['295 s ahead', now + 295, false],
    ])('judges a signature %s', (_, timestamp, timely) => {
      expect(isSignatureTimely(timestamp, now)).toBe(timely);
    });
  });

  describe(replayGuardExpiresAt.name, () => {
    it('outlives the last second at which the signature is still accepted, whatever its date', () => {
      const now = 1_767_225_600;
      for (const timestamp of [now - SIGNATURE_TOLERANCE_SECONDS, now, now + SIGNATURE_MAX_FUTURE_SECONDS]) {
        const lastGoodSecond = timestamp + SIGNATURE_TOLERANCE_SECONDS;
        expect(isSignatureTimely(timestamp, lastGoodSecond)).toBe(true);
        expect(isSignatureTimely(timestamp, lastGoodSecond + 1)).toBe(false);
        expect(replayGuardExpiresAt(timestamp)).toBeGreaterThan(lastGoodSecond);
      }
    });
  });

  it('keeps at most five signatures', () => {
    const header = ['t=1', ...Array.from({ length: 8 }, (_, index) => `v1=${String(index).repeat(64)}`)].join(',');
    expect(parseSignatureHeader(header)?.signatures).toHaveLength(5);
  });
});
