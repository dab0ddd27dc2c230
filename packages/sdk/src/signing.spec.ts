import { EMPTY_BODY_SHA256, signRequest as libSign, parseSignatureHeader, sha256Hex } from '@latchkey/crypto';

import { signRequest } from './signing';

describe(signRequest.name, () => {
  it('signs as auth-check verifies: t, METHOD, path with query, body hash', () => {
    const body = '{"amount":5}';
    const headers = signRequest({ secret: 's3cret', method: 'post', path: '/v1/charges?x=1', body, timestamp: 1_700_000_000 });
    expect(headers['x-content-sha256']).toBe(sha256Hex(body));
    expect(headers['x-signature']).toBe(
      libSign('s3cret', { timestamp: 1_700_000_000, method: 'POST', path: '/v1/charges?x=1', bodySha256: sha256Hex(body) }),
    );
    expect(parseSignatureHeader(headers['x-signature'])).toMatchObject({ timestamp: 1_700_000_000 });
  });

  it('hashes the empty body when there is none, and dates the signature now', () => {
    const before = Math.floor(Date.now() / 1000);
    const headers = signRequest({ secret: 's', method: 'GET', path: '/' });
    expect(headers['x-content-sha256']).toBe(EMPTY_BODY_SHA256);
    expect(parseSignatureHeader(headers['x-signature'])!.timestamp).toBeGreaterThanOrEqual(before);
  });
});
