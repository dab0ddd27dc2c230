import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { changeKey, issueKey, nowSeconds, sha256Hex, signRequest, waitFor } from './auth-check-helpers';

const INTERNAL_TOKEN = 'internal-token-for-e2e-0123456789';
/** The token being rotated in: edge accepts both while callers move over. */
const NEXT_INTERNAL_TOKEN = 'next-internal-token-for-e2e-98765';

describe('GET /v1/check forward auth, INTERNAL_TOKEN, and a second auth-check process', () => {
  /** TARGET=all: issues keys, and checks them with no internal token. */
  let main: TestApp;
  /** TARGET=auth-check on the same environment: internal token required, X-Forwarded-For trusted, keys over keys.lookup. */
  let edge: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    main = await TestApp.start();
    edge = await TestApp.start({
      env: main.env,
      config: {
        TARGET: 'auth-check',
        INTERNAL_TOKEN: `${INTERNAL_TOKEN},${NEXT_INTERNAL_TOKEN}`,
        TRUST_PROXY: 'true',
      },
    });
    owner = await signUp(main);
  });

  afterAll(async () => {
    await edge.close();
    await main.close();
  });

  const check = (app: TestApp, headers: Record<string, string>, query?: Record<string, string>) => app.get('/v1/check', { headers, query });
  const internal = (headers: Record<string, string> = {}) => ({ 'x-internal-token': INTERNAL_TOKEN, ...headers });

  it('accepts the key as x-api-key, Authorization: Bearer and Authorization: x-api-key', async () => {
    const key = await issueKey(main, owner);
    const styles: Record<string, string>[] = [
      { 'x-api-key': key.secret },
      { authorization: `Bearer ${key.secret}` },
      { authorization: `x-api-key ${key.secret}` },
    ];
    for (const headers of styles) {
      const response = await check(main, headers);
      expect(response.status).toBe(200);
      expect(response.headers['x-latchkey-org-id']).toBe(owner.orgId);
      expect(response.headers['x-latchkey-key-id']).toBe(key.id);
      expect(response.headers['x-latchkey-environment']).toBe('test');
      expect(response.headers['x-latchkey-owner-id']).toBeUndefined();
      // Gateways read only the status and headers of a pass: no body is sent.
      expect(response.headers['content-length']).toBe('0');
      expect(response.headers['content-type']).toBeUndefined();
      expect(response.text).toBe('');
    }
  });

  it('names the owner of a key that has one in X-Latchkey-Owner-Id, percent-encoded', async () => {
    const plain = await issueKey(main, owner, { owner_id: 'cus_42' });
    expect((await check(main, { 'x-api-key': plain.secret })).headers['x-latchkey-owner-id']).toBe('cus_42');
    const spaced = await issueKey(main, owner, { owner_id: 'Zoë Café team\nB' });
    const response = await check(main, { 'x-api-key': spaced.secret });
    expect(response.status).toBe(200);
    expect(response.headers['x-latchkey-owner-id']).toBe('Zo%C3%AB%20Caf%C3%A9%20team%0AB');
  });

  it('answers 401 with WWW-Authenticate for a missing, malformed, unknown, revoked, disabled or expired key', async () => {
    const missing = await check(main, {});
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^ApiKey realm="latchkey"/);
    expect(missing.body).toMatchObject({ success: false, error: { code: 'MALFORMED' } });

    expect((await check(main, { 'x-api-key': 'sk_test_nope' })).status).toBe(401);
    expect((await check(main, { authorization: 'Basic abc' })).status).toBe(401);
    const unknown = await check(main, { 'x-api-key': 'sk_test_0123456789abcdefghijABCDEFGHIJkl2OgMyZ' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('NOT_FOUND');

    const disabled = await issueKey(main, owner);
    await changeKey(main, owner, disabled.id, 'disable');
    const { value: disabledAnswer } = await waitFor(
      () => check(main, { 'x-api-key': disabled.secret }),
      (answer) => answer.status === 401,
      1_000,
      10,
    );
    expect(disabledAnswer.status).toBe(401);
    expect(disabledAnswer.body.error.code).toBe('DISABLED');

    // The API takes only a future expiry: one a moment ahead, then asked until it has passed.
    const expired = await issueKey(main, owner, { expires_at: new Date(Date.now() + 1_500).toISOString() });
    const { value: expiredAnswer } = await waitFor(
      () => check(main, { authorization: `Bearer ${expired.secret}` }),
      (answer) => answer.status === 401,
      10_000,
      50,
    );
    expect(expiredAnswer.status).toBe(401);
    expect(expiredAnswer.body.error.code).toBe('EXPIRED');

    const revoked = await issueKey(main, owner);
    await changeKey(main, owner, revoked.id, 'revoke');
    const { value: revokedAnswer } = await waitFor(
      () => check(main, { 'x-api-key': revoked.secret }),
      (answer) => answer.status === 401,
      1_000,
      10,
    );
    expect(revokedAnswer.status).toBe(401);
    expect(revokedAnswer.headers['www-authenticate']).toContain('error="revoked"');
  });

  it('answers 403 for restrictions and permissions, reading X-Forwarded-Method / X-Forwarded-Uri / X-Original-URI', async () => {
    const key = await issueKey(main, owner, {
      permissions: ['payments:read'],
      restrictions: { endpoints: [{ method: 'GET', path: '/api/payments/*' }], referrers: ['https://*.shop.test'] },
    });
    const base = { 'x-api-key': key.secret, 'x-forwarded-method': 'GET', referer: 'https://www.shop.test/cart' };
    expect((await check(main, { ...base, 'x-forwarded-uri': '/api/payments/p_1' })).status).toBe(200);
    expect((await check(main, { ...base, 'x-original-uri': '/api/payments/p_2?x=1' })).status).toBe(200);
    const wrongPath = await check(main, { ...base, 'x-forwarded-uri': '/api/users' });
    expect(wrongPath.status).toBe(403);
    expect(wrongPath.body.error.code).toBe('ENDPOINT_NOT_ALLOWED');
    const wrongMethod = await check(main, { ...base, 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/api/payments/p_1' });
    expect(wrongMethod.body.error.code).toBe('ENDPOINT_NOT_ALLOWED');
    const wrongReferrer = await check(main, { ...base, referer: 'https://evil.test/', 'x-forwarded-uri': '/api/payments/p_1' });
    expect(wrongReferrer.status).toBe(403);
    expect(wrongReferrer.body.error.code).toBe('REFERRER_NOT_ALLOWED');
    const permissions = await check(
      main,
      { ...base, 'x-forwarded-uri': '/api/payments/p_1' },
      { permissions: 'payments:read,payments:write' },
    );
    expect(permissions.status).toBe(403);
    expect(permissions.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
    const environment = await check(main, { ...base, 'x-forwarded-uri': '/api/payments/p_1' }, { environment: 'live' });
    expect(environment.status).toBe(403);
    expect(environment.body.error.code).toBe('WRONG_ENVIRONMENT');
    expect((await check(main, base, { cost: 'lots' })).status).toBe(400);
  });

  it('refuses a forwarded URI that climbs out of an allowed endpoint, encoded or not', async () => {
    const key = await issueKey(main, owner, { restrictions: { endpoints: [{ method: 'GET', path: '/api/public/*' }] } });
    const base = { 'x-api-key': key.secret, 'x-forwarded-method': 'GET' };
    expect((await check(main, { ...base, 'x-forwarded-uri': '/api/public/docs?x=1' })).status).toBe(200);
    const tooLong = `/api/public/${'a'.repeat(5_000)}`;
    for (const uri of [
      '/api/public/../admin',
      '/api/public/%2e%2e/admin',
      '/api/public/%2E%2E%2Fadmin',
      '/api/public/x#/../../admin',
      tooLong,
    ]) {
      const refused = await check(main, { ...base, 'x-forwarded-uri': uri });
      expect({ uri: uri.slice(0, 40), status: refused.status, code: refused.body?.error?.code }).toEqual({
        uri: uri.slice(0, 40),
        status: 403,
        code: 'ENDPOINT_NOT_ALLOWED',
      });
    }
  });

  it('takes the client IP from X-Forwarded-For only from a trusted proxy', async () => {
    const key = await issueKey(main, owner, { restrictions: { ip_allowlist: ['203.0.113.0/24'] } });
    const headers = { 'x-api-key': key.secret, 'x-forwarded-for': '203.0.113.50' };
    // main: TRUST_PROXY=false, so the socket address (127.0.0.1) counts and a forged header does not.
    const untrusted = await check(main, headers);
    expect(untrusted.status).toBe(403);
    expect(untrusted.body.error.code).toBe('IP_NOT_ALLOWED');
    // edge: TRUST_PROXY=true.
    expect((await check(edge, internal(headers))).status).toBe(200);
    const outside = await check(edge, internal({ ...headers, 'x-forwarded-for': '198.51.100.7' }));
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('IP_NOT_ALLOWED');
  });

  it('answers 429 with RateLimit-* and Retry-After for a rate limit, and 429 for a spent quota', async () => {
    const limited = await issueKey(main, owner, { rate_limit: { limit: 2, window_seconds: 30 } });
    expect((await check(main, { 'x-api-key': limited.secret })).headers['ratelimit-remaining']).toBe('1');
    expect((await check(main, { 'x-api-key': limited.secret })).status).toBe(200);
    const refused = await check(main, { 'x-api-key': limited.secret });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(refused.headers['ratelimit-limit']).toBe('2');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(Number(refused.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const quota = await issueKey(main, owner, { quota: { limit: 3, period: 'month' } });
    expect((await check(main, { 'x-api-key': quota.secret }, { cost: '3' })).status).toBe(200);
    const spent = await check(main, { 'x-api-key': quota.secret });
    expect(spent.status).toBe(429);
    expect(spent.body.error.code).toBe('QUOTA_EXCEEDED');
    expect(Number(spent.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('checks signed requests with x-signature and x-content-sha256 (403 INVALID_SIGNATURE otherwise)', async () => {
    const key = await issueKey(main, owner, { signing: true });
    const body = '{"amount":1}';
    const signature = signRequest(key.secret, {
      timestamp: nowSeconds(),
      method: 'POST',
      path: '/api/charges',
      bodySha256: sha256Hex(body),
    });
    const headers = {
      'x-api-key': key.public_key!,
      'x-signature': signature,
      'x-content-sha256': sha256Hex(body),
      'x-forwarded-method': 'POST',
      'x-forwarded-uri': '/api/charges',
    };
    const passed = await check(main, headers);
    expect(passed.status).toBe(200);
    expect(passed.headers['x-latchkey-key-id']).toBe(key.id);
    const replay = await check(main, headers);
    expect(replay.status).toBe(403);
    expect(replay.body.error.code).toBe('INVALID_SIGNATURE');
    expect((await check(main, { ...headers, 'x-content-sha256': sha256Hex('other') })).status).toBe(403);
    expect((await check(main, { 'x-api-key': key.secret })).status).toBe(403);
  });

  it('reveals nothing of the key in a refusal: no X-Latchkey-* header, only the code in the error envelope', async () => {
    const carried = { permissions: ['payments:*'], metadata: { plan: 'secret-plan-name' } };
    const revoked = await issueKey(main, owner, carried);
    await changeKey(main, owner, revoked.id, 'revoke');
    const { value: revokedAnswer } = await waitFor(
      () => check(main, { 'x-api-key': revoked.secret }),
      (answer) => answer.status === 401,
      1_000,
      10,
    );
    const signing = await issueKey(main, owner, { ...carried, signing: true });
    const unsigned = await check(main, { 'x-api-key': signing.public_key!, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/x' });
    const forged = await check(main, {
      'x-api-key': signing.public_key!,
      'x-signature': signRequest('sk_test_not_the_secret', {
        timestamp: nowSeconds(),
        method: 'GET',
        path: '/api/x',
        bodySha256: sha256Hex(''),
      }),
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/api/x',
    });

    for (const [answer, status, code, key] of [
      [revokedAnswer, 401, 'REVOKED', revoked],
      [unsigned, 403, 'INVALID_SIGNATURE', signing],
      [forged, 403, 'INVALID_SIGNATURE', signing],
    ] as const) {
      expect({ code, status: answer.status, body: answer.body }).toEqual({
        code,
        status,
        body: { success: false, error: expect.objectContaining({ code, message: expect.any(String) }) },
      });
      expect(Object.keys(answer.headers).filter((name) => name.startsWith('x-latchkey-'))).toEqual([]);
      const everything = JSON.stringify(answer.headers) + answer.text;
      for (const leak of [key.id, owner.orgId, key.public_key ?? key.id, 'secret-plan-name', 'payments:*']) {
        expect({ code, leaked: everything.includes(leak) }).toEqual({ code, leaked: false });
      }
    }
  });

  describe('INTERNAL_TOKEN', () => {
    it('is required as x-internal-token on both endpoints when set', async () => {
      const key = await issueKey(main, owner);
      for (const token of [undefined, 'wrong-token-wrong-token-wrong']) {
        const headers: Record<string, string> = token ? { 'x-internal-token': token } : {};
        const verify = await edge.post('/v1/verify', { headers, body: { key: key.secret } });
        expect(verify.status).toBe(401);
        expect(verify.body).toMatchObject({ success: false, error: { code: 'UNAUTHENTICATED' } });
        expect((await check(edge, { ...headers, 'x-api-key': key.secret })).status).toBe(401);
      }
      const verify = await edge.post('/v1/verify', { headers: internal(), body: { key: key.secret } });
      expect(verify.status).toBe(200);
      expect(verify.body.data).toMatchObject({ valid: true, key_id: key.id });
      expect((await check(edge, internal({ 'x-api-key': key.secret }))).status).toBe(200);
    });

    it('accepts either of two comma-separated tokens (a rotation) and nothing else', async () => {
      const key = await issueKey(main, owner);
      for (const token of [INTERNAL_TOKEN, NEXT_INTERNAL_TOKEN]) {
        const verify = await edge.post('/v1/verify', { headers: { 'x-internal-token': token }, body: { key: key.secret } });
        expect(verify.status).toBe(200);
        expect(verify.body.data).toMatchObject({ valid: true, key_id: key.id });
        expect((await check(edge, { 'x-internal-token': token, 'x-api-key': key.secret })).status).toBe(200);
      }
      for (const token of ['third-internal-token-for-e2e-000', `${INTERNAL_TOKEN},${NEXT_INTERNAL_TOKEN}`, '']) {
        const verify = await edge.post('/v1/verify', { headers: { 'x-internal-token': token }, body: { key: key.secret } });
        expect(verify.status).toBe(401);
        expect((await check(edge, { 'x-internal-token': token, 'x-api-key': key.secret })).status).toBe(401);
      }
    });
  });

  it('a revoke reaches a second auth-check process within 1 s of its cache being warm', async () => {
    const key = await issueKey(main, owner);
    const probe = async () => (await edge.post('/v1/verify', { headers: internal(), body: { key: key.secret } })).body.data.code as string;
    expect(await probe()).toBe('VALID');
    expect(await probe()).toBe('VALID'); // now served from edge's cache
    const revokedAt = Date.now();
    await changeKey(main, owner, key.id, 'revoke');
    const { value, ms } = await waitFor(probe, (code) => code === 'REVOKED', 2_000, 10);
    expect(value).toBe('REVOKED');
    expect(Date.now() - revokedAt).toBeLessThan(1_000 + 200); // the revoke call itself included
    expect(ms).toBeLessThan(1_000);
  });
});
