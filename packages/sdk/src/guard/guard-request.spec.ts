import { generateApiKey } from '@latchkey/crypto';

import type { VerifyRequestBody } from '../verifier/verdict';
import { Verifier } from '../verifier/verifier';
import { clientIp, guardCall } from './guard-request';

describe(guardCall.name, () => {
  /** A verifier whose transport records each body and refuses it as a referrer the key does not allow. */
  function recordingVerifier() {
    const sent: VerifyRequestBody[] = [];
    const verifier = new Verifier(
      {
        send: (body) => {
          sent.push(body);
          return Promise.resolve({ valid: false, code: 'REFERRER_NOT_ALLOWED' });
        },
        close: () => Promise.resolve(),
      },
      1_000,
    );
    return { verifier, sent };
  }

  it('sends the Referer, else the Origin, for a key restricted to referrers', async () => {
    const { verifier, sent } = recordingVerifier();
    const key = generateApiKey('test');
    await guardCall(
      verifier,
      {},
      { headers: { 'x-api-key': key, referer: 'https://shop.example.com/cart', origin: 'https://other.example' } },
    );
    await guardCall(verifier, {}, { headers: { 'x-api-key': key, origin: 'https://shop.example.com' } });
    await guardCall(verifier, {}, { headers: { 'x-api-key': key } });
    expect(sent.map((body) => body.referrer)).toEqual(['https://shop.example.com/cart', 'https://shop.example.com', undefined]);
    expect('referrer' in sent[2]).toBe(false);
  });
});

describe(clientIp.name, () => {
  const headers = { 'x-forwarded-for': '198.51.100.7, 203.0.113.2' };

  it('believes no forwarded hop unless told to', () => {
    expect(clientIp(headers, '::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(clientIp(headers, '10.0.0.5', false)).toBe('10.0.0.5');
  });

  it('takes as many hops from the right as there are trusted proxies', () => {
    expect(clientIp(headers, '10.0.0.5', 1)).toBe('203.0.113.2');
    expect(clientIp(headers, '10.0.0.5', 2)).toBe('198.51.100.7');
    expect(clientIp(headers, '10.0.0.5', 9)).toBe('198.51.100.7');
    expect(clientIp(headers, '10.0.0.5', true)).toBe('198.51.100.7');
  });

  it('falls back to the peer when nothing was forwarded', () => {
    expect(clientIp({}, '10.0.0.5', true)).toBe('10.0.0.5');
    expect(clientIp({ 'x-forwarded-for': ['198.51.100.7', '203.0.113.2'] }, '10.0.0.5', 1)).toBe('203.0.113.2');
  });
});
