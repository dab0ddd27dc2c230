import { generateApiKey } from '@latchkey/crypto';

import type { VerifyRequestBody } from '../verifier/verdict';
import { Verifier } from '../verifier/verifier';
import { clientIp, guardCall } from './guard-request';

describe(guardCall.name, () => {
  afterEach(() => jest.restoreAllMocks());

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

  it('answers QUOTA_EXCEEDED with 429 and Retry-After until the quota period ends', async () => {
    const now = Date.parse('2026-12-06T23:58:19.400Z');
    jest.spyOn(Date, 'now').mockReturnValue(now);
    const refusals = [
      { remaining: 0, reset_at: '2026-12-07T00:00:00.000Z' },
      { remaining: 0, reset_at: '2026-12-06T23:58:19.000Z' },
      { remaining: 0, reset_at: null },
    ].map((quota) => ({ valid: false as const, code: 'QUOTA_EXCEEDED' as const, rate_limit: null, quota }));
    const verifier = new Verifier({ send: () => Promise.resolve(refusals.shift()!), close: () => Promise.resolve() }, 1_000);
    const call = { headers: { 'x-api-key': generateApiKey('test') } };
    const answers = [];
    for (let i = 0; i < 3; i += 1) {
      const outcome = await guardCall(verifier, {}, call);
      answers.push(outcome.pass ? outcome : { status: outcome.answer.status, retryAfter: outcome.answer.headers['retry-after'] });
    }
    // 100.6 s rounds up to 101; a reset already past is still "at least 1"; a total quota (or degraded) says nothing.
    expect(answers).toEqual([
      { status: 429, retryAfter: '101' },
      { status: 429, retryAfter: '1' },
      { status: 429, retryAfter: undefined },
    ]);
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
