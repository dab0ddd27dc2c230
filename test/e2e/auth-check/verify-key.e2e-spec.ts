import { generateApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { changeKey, issueKey, nowSeconds, sha256Hex, signedBody, waitFor } from './auth-check-helpers';

describe('POST /v1/verify (auth-check)', () => {
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start();
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  const verify = async (body: unknown) => {
    const response = await sut.post('/v1/verify', { body });
    return response;
  };
  const codeOf = async (body: unknown) => {
    const response = await verify(body);
    if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${response.text}`);
    return response.body.data.code as string;
  };
  /**
   * A change reaches the cache through pub/sub: within 1 s (docs/performance.md#targets), not
   * necessarily before the admin call returns.
   */
  const eventually = async (body: unknown, expected: string) =>
    (
      await waitFor(
        () => codeOf(body),
        (code) => code === expected,
        1_000,
        10,
      )
    ).value;

  it('answers VALID with the key, its name and owner, its organisation, permissions and metadata', async () => {
    const key = await issueKey(sut, owner, {
      name: 'Checkout backend',
      owner_id: 'cus_42',
      permissions: ['payments:read'],
      metadata: { plan: 'pro' },
    });
    const response = await verify({ key: key.secret });
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toMatch(/^req_/);
    expect(response.body).toEqual({
      success: true,
      data: {
        valid: true,
        code: 'VALID',
        key_id: key.id,
        name: 'Checkout backend',
        owner_id: 'cus_42',
        org_id: owner.orgId,
        environment: 'test',
        permissions: ['payments:read'],
        metadata: { plan: 'pro' },
        rate_limit: null,
        quota: null,
      },
    });
  });

  it('answers MALFORMED for a key whose shape or checksum is wrong, NOT_FOUND for a well-formed unknown key', async () => {
    const key = await issueKey(sut, owner);
    const flipped = key.secret.slice(0, 20) + (key.secret[20] === 'a' ? 'b' : 'a') + key.secret.slice(21);
    expect(await codeOf({ key: flipped })).toBe('MALFORMED');
    expect(await codeOf({ key: 'hello' })).toBe('MALFORMED');
    expect(await codeOf({ key: '' })).toBe('MALFORMED');
    const unknown = await verify({ key: generateApiKey('test') });
    expect(unknown.body.data).toEqual({ valid: false, code: 'NOT_FOUND' });
    // The negative answer is cached and stays the same.
    expect(await codeOf({ key: generateApiKey('live') })).toBe('NOT_FOUND');
  });

  it('answers DISABLED, REVOKED and EXPIRED', async () => {
    const disabled = await issueKey(sut, owner);
    expect(await codeOf({ key: disabled.secret })).toBe('VALID');
    await changeKey(sut, owner, disabled.id, 'disable');
    expect(await eventually({ key: disabled.secret }, 'DISABLED')).toBe('DISABLED');
    await changeKey(sut, owner, disabled.id, 'enable');
    expect(await eventually({ key: disabled.secret }, 'VALID')).toBe('VALID');

    const revoked = await issueKey(sut, owner);
    expect(await codeOf({ key: revoked.secret })).toBe('VALID');
    await changeKey(sut, owner, revoked.id, 'revoke');
    await eventually({ key: revoked.secret }, 'REVOKED');
    const answer = await verify({ key: revoked.secret });
    expect(answer.body.data).toEqual({ valid: false, code: 'REVOKED' });

    // The API takes only a future expiry: one a moment ahead, then asked until it has passed.
    const expired = await issueKey(sut, owner, { expires_at: new Date(Date.now() + 1_500).toISOString() });
    const { value: expiredCode } = await waitFor(
      () => codeOf({ key: expired.secret }),
      (code) => code === 'EXPIRED',
      10_000,
      50,
    );
    expect(expiredCode).toBe('EXPIRED');
  });

  it("answers a rolled key's old secret VALID during its grace and NOT_FOUND after it", async () => {
    const key = await issueKey(sut, owner);
    const rolled = await changeKey(sut, owner, key.id, 'roll', { expire_old_in_seconds: 1 });
    expect(await codeOf({ key: rolled.secret })).toBe('VALID');
    expect(await codeOf({ key: key.secret })).toBe('VALID');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await codeOf({ key: key.secret })).toBe('NOT_FOUND');
    expect(await codeOf({ key: rolled.secret })).toBe('VALID');

    const again = await changeKey(sut, owner, key.id, 'roll', { expire_old_in_seconds: 0 });
    expect(await eventually({ key: rolled.secret }, 'NOT_FOUND')).toBe('NOT_FOUND');
    expect(await codeOf({ key: again.secret })).toBe('VALID');
  });

  it('answers WRONG_ENVIRONMENT when the key is not of the environment asked for', async () => {
    const key = await issueKey(sut, owner);
    expect(await codeOf({ key: key.secret, environment: 'live' })).toBe('WRONG_ENVIRONMENT');
    expect(await codeOf({ key: key.secret, environment: 'test' })).toBe('VALID');
  });

  it('matches the IP allowlist on IPv4 and IPv6 CIDRs, IPv4-mapped IPv6 included', async () => {
    const key = await issueKey(sut, owner, { restrictions: { ip_allowlist: ['203.0.113.0/24', '2001:db8::/32'] } });
    expect(await codeOf({ key: key.secret, ip: '203.0.113.9' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, ip: '::ffff:203.0.113.9' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, ip: '2001:db8:1::5' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, ip: '198.51.100.1' })).toBe('IP_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret, ip: '2001:db9::1' })).toBe('IP_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret })).toBe('IP_NOT_ALLOWED');
  });

  it('matches referrers on their origin, with * standing for one subdomain label', async () => {
    const key = await issueKey(sut, owner, { restrictions: { referrers: ['https://*.example.com', 'http://localhost:*'] } });
    expect(await codeOf({ key: key.secret, referrer: 'https://app.example.com/checkout?x=1' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, referrer: 'http://localhost:5173/' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, referrer: 'https://example.com/' })).toBe('REFERRER_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret, referrer: 'http://app.example.com/' })).toBe('REFERRER_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret, referrer: 'https://app.example.com.evil.io/' })).toBe('REFERRER_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret })).toBe('REFERRER_NOT_ALLOWED');
  });

  it('matches endpoints on method and path glob, ignoring the query string', async () => {
    const key = await issueKey(sut, owner, {
      restrictions: {
        endpoints: [
          { method: 'GET', path: '/v1/payments/*' },
          { method: '*', path: '/v1/ping' },
        ],
      },
    });
    expect(await codeOf({ key: key.secret, method: 'GET', path: '/v1/payments/p_1/refunds?limit=2' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, method: 'DELETE', path: '/v1/ping' })).toBe('VALID');
    expect(await codeOf({ key: key.secret, method: 'POST', path: '/v1/payments/p_1' })).toBe('ENDPOINT_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret, method: 'GET', path: '/v1/payments/' })).toBe('ENDPOINT_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret, method: 'GET', path: '/v1/users' })).toBe('ENDPOINT_NOT_ALLOWED');
    expect(await codeOf({ key: key.secret })).toBe('ENDPOINT_NOT_ALLOWED');
  });

  it('judges endpoints on the normalised path: no dot segment, encoded or not, climbs out of a pattern', async () => {
    const key = await issueKey(sut, owner, {
      restrictions: {
        endpoints: [
          { method: 'GET', path: '/v1/public/*' },
          { method: 'GET', path: '/v1/items/{id}' },
        ],
      },
    });
    const codeFor = (path: string) => codeOf({ key: key.secret, method: 'GET', path });
    expect(await codeFor('/v1/public/docs')).toBe('VALID');
    expect(await codeFor('/v1/public/%7Euser')).toBe('VALID');
    expect(await codeFor('/v1/items/42')).toBe('VALID');
    for (const path of [
      '/v1/public/../admin/users',
      '/v1/public/%2e%2e/admin/users',
      '/v1/public/%2E%2e/admin/users',
      '/v1/public/.%2e/admin/users',
      '/v1/public/..%2Fadmin',
      '/v1/public/..\\admin',
      '/v1/public/%5Cadmin',
      '/v1/items/..',
      '/v1/items/.',
      '/v1/items/%2e%2e',
      '/v1/public//',
    ]) {
      expect({ path, code: await codeFor(path) }).toEqual({ path, code: 'ENDPOINT_NOT_ALLOWED' });
    }
  });

  it('needs every requested permission held; a held payments:* covers payments:read', async () => {
    const key = await issueKey(sut, owner, { permissions: ['payments:*', 'reports:read'] });
    expect(await codeOf({ key: key.secret, permissions: ['payments:read', 'reports:read'] })).toBe('VALID');
    expect(await codeOf({ key: key.secret, permissions: ['payments:refunds:create'] })).toBe('VALID');
    expect(await codeOf({ key: key.secret, permissions: ['reports:write'] })).toBe('INSUFFICIENT_PERMISSIONS');
    expect(await codeOf({ key: key.secret, permissions: ['payments:read', 'users:read'] })).toBe('INSUFFICIENT_PERMISSIONS');
    expect(await codeOf({ key: key.secret, permissions: ['payments'] })).toBe('INSUFFICIENT_PERMISSIONS');
    expect(await codeOf({ key: key.secret, permissions: [] })).toBe('VALID');
  });

  it('lets exactly `limit` of 40 concurrent checks pass and answers the rest RATE_LIMITED with headers', async () => {
    const key = await issueKey(sut, owner, { rate_limit: { limit: 7, window_seconds: 60 } });
    const answers = await Promise.all(Array.from({ length: 40 }, () => verify({ key: key.secret })));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const passed = answers.filter((answer) => answer.body.data.valid);
    const limited = answers.filter((answer) => answer.body.data.code === 'RATE_LIMITED');
    expect(passed).toHaveLength(7);
    expect(limited).toHaveLength(33);
    expect(limited[0].headers['ratelimit-limit']).toBe('7');
    expect(limited[0].headers['ratelimit-remaining']).toBe('0');
    expect(Number(limited[0].headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(limited[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A limit's refusal says which limit, and nothing else of the key.
    expect(limited[0].body.data).toEqual({
      valid: false,
      code: 'RATE_LIMITED',
      rate_limit: { limit: 7, remaining: 0, reset_at: expect.any(String) },
      quota: null,
    });
    expect(passed[0].headers['ratelimit-limit']).toBe('7');
    expect(passed[0].headers['retry-after']).toBeUndefined();
  });

  it('takes `cost` (default 1) from the quota, never below zero, and a refused check takes nothing', async () => {
    const key = await issueKey(sut, owner, { quota: { limit: 10, period: 'day' }, permissions: ['a:read'] });
    expect((await verify({ key: key.secret, cost: 4 })).body.data).toMatchObject({ code: 'VALID', quota: { remaining: 6 } });
    // Refused before the quota: nothing is taken.
    expect(await codeOf({ key: key.secret, permissions: ['b:read'], cost: 4 })).toBe('INSUFFICIENT_PERMISSIONS');
    expect((await verify({ key: key.secret, cost: 4 })).body.data).toMatchObject({ code: 'VALID', quota: { remaining: 2 } });
    const refused = await verify({ key: key.secret, cost: 4 });
    expect(refused.body.data).toEqual({
      valid: false,
      code: 'QUOTA_EXCEEDED',
      rate_limit: null,
      quota: { remaining: 2, reset_at: expect.any(String) },
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await verify({ key: key.secret, cost: 2 })).body.data).toMatchObject({ code: 'VALID', quota: { remaining: 0 } });
    expect((await verify({ key: key.secret })).body.data).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { remaining: 0 } });
  });

  it.each([
    ['day', (at: Date) => Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1)],
    ['month', (at: Date) => Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)],
  ])('says when a %s quota refills: reset_at is the end of the UTC period, on a pass and on a refusal', async (period, endOf) => {
    const key = await issueKey(sut, owner, { quota: { limit: 1, period } });
    // Either side of a midnight the check may fall on: the period of the moment before or after it.
    const before = new Date();
    const passed = (await verify({ key: key.secret })).body.data;
    const refused = (await verify({ key: key.secret })).body.data;
    const after = new Date();
    const ends = [new Date(endOf(before)).toISOString(), new Date(endOf(after)).toISOString()];
    expect(passed).toMatchObject({ code: 'VALID', quota: { remaining: 0 } });
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { remaining: 0 } });
    expect(ends).toContain(passed.quota.reset_at);
    expect(ends).toContain(refused.quota.reset_at);
  });

  it('gives a total quota, which never refills, no reset_at', async () => {
    const key = await issueKey(sut, owner, { quota: { limit: 1, period: 'total' } });
    expect((await verify({ key: key.secret })).body.data.quota).toEqual({ remaining: 0, reset_at: null });
    expect((await verify({ key: key.secret })).body.data).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      quota: { remaining: 0, reset_at: null },
    });
  });

  it.each(['day', 'month', 'total'])('counts a %s quota', async (period) => {
    const key = await issueKey(sut, owner, { quota: { limit: 2, period } });
    expect(await codeOf({ key: key.secret })).toBe('VALID');
    expect(await codeOf({ key: key.secret })).toBe('VALID');
    expect(await codeOf({ key: key.secret })).toBe('QUOTA_EXCEEDED');
  });

  describe('signed requests', () => {
    it('passes a signing key as its public key only with a valid, fresh, unused signature', async () => {
      const key = await issueKey(sut, owner, { signing: true });
      expect(key.public_key).toMatch(/^pk_test_/);
      const signed = signedBody(key.secret, key.public_key!, 'POST', '/v1/charges?expand=1', '{"amount":5}');
      const first = await verify(signed);
      expect(first.body.data).toMatchObject({ valid: true, code: 'VALID', key_id: key.id });
      // The same signed request again is a replay.
      expect(await codeOf(signed)).toBe('INVALID_SIGNATURE');
      // A signature over something else, a stale one, none at all.
      const other = signedBody(key.secret, key.public_key!, 'POST', '/v1/charges', '{"amount":5}');
      expect(await codeOf({ ...other, path: '/v1/refunds' })).toBe('INVALID_SIGNATURE');
      expect(await codeOf(signedBody(key.secret, key.public_key!, 'GET', '/v1/x', '', nowSeconds() - 400))).toBe('INVALID_SIGNATURE');
      expect(await codeOf(signedBody('sk_test_wrongsecret', key.public_key!, 'GET', '/v1/x'))).toBe('INVALID_SIGNATURE');
      expect(await codeOf({ key: key.public_key, method: 'GET', path: '/v1/x' })).toBe('INVALID_SIGNATURE');
      // The sk secret is the HMAC key: presented directly it is refused.
      expect((await verify({ key: key.secret })).body.data).toEqual({ valid: false, code: 'INVALID_SIGNATURE' });
      expect(await codeOf(signedBody(key.secret, key.public_key!, 'GET', '/v1/y', ''))).toBe('VALID');
      expect(sha256Hex('')).toMatch(/^e3b0/);
    });

    it('refuses a signature dated two minutes ahead of the server, which would outlive the tolerance', async () => {
      const key = await issueKey(sut, owner, { signing: true });
      const ahead = signedBody(key.secret, key.public_key!, 'POST', '/v1/charges', '{"amount":5}', nowSeconds() + 120);
      expect((await verify(ahead)).body.data).toEqual({ valid: false, code: 'INVALID_SIGNATURE' });
      // The same key with a signature dated now passes: the date alone was refused.
      expect(await codeOf(signedBody(key.secret, key.public_key!, 'POST', '/v1/charges', '{"amount":5}'))).toBe('VALID');
    });

    it('tells the state of a signing key only to a valid signature: its public id alone learns nothing', async () => {
      const key = await issueKey(sut, owner, { signing: true });
      await changeKey(sut, owner, key.id, 'revoke');
      // Once the revocation is seen, a signed request learns the key is revoked...
      const signedCode = async () => codeOf(signedBody(key.secret, key.public_key!, 'GET', `/v1/state/${Math.random()}`, ''));
      expect((await waitFor(signedCode, (code) => code === 'REVOKED', 1_000, 10)).value).toBe('REVOKED');
      // ...and the public identifier without a signature still learns only that it is unsigned.
      expect((await verify({ key: key.public_key, method: 'GET', path: '/v1/state' })).body.data).toEqual({
        valid: false,
        code: 'INVALID_SIGNATURE',
      });
    });
  });

  describe('what a refusal reveals', () => {
    /** The usage events of `keyId` as the owner reads them once counted: GET /v1/logs. */
    const loggedChecks = async (keyId: string) => {
      const response = await sut.get('/v1/logs', { token: owner.token, query: { key_id: keyId } });
      return response.status === 200
        ? (response.body.data as Array<{ key_id: string; org_id: string; environment: string; code: string; path: string | null }>)
        : [];
    };

    const carried = { permissions: ['payments:*'], metadata: { plan: 'secret-plan-name' } };
    /** Nothing of the key in the answer, in any field or nested anywhere. */
    const expectNothingOf = (text: string, key: { id: string; public_key: string | null }) => {
      for (const leak of [key.id, owner.orgId, 'secret-plan-name', 'payments:*', '"test"']) expect(text).not.toContain(leak);
      if (key.public_key) expect(text).not.toContain(key.public_key);
    };

    it('a revoked key gets only why, and its usage event still names the key and its organisation', async () => {
      const key = await issueKey(sut, owner, carried);
      await changeKey(sut, owner, key.id, 'revoke');
      const body = { key: key.secret, method: 'GET', path: `/v1/revealed/${key.id}/revoked` };
      expect(await eventually(body, 'REVOKED')).toBe('REVOKED');
      const answer = await verify(body);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ success: true, data: { valid: false, code: 'REVOKED' } });
      expectNothingOf(JSON.stringify(answer.body.data), key);

      const { value: events } = await waitFor(
        () => loggedChecks(key.id),
        (all) => all.some((event) => event.path === body.path && event.code === 'REVOKED'),
        10_000,
        50,
      );
      expect(events.find((event) => event.path === body.path && event.code === 'REVOKED')).toMatchObject({
        key_id: key.id,
        org_id: owner.orgId,
        environment: 'test',
      });
    });

    it('a pk_ signing key without a valid signature gets only why, and its usage events still name the key', async () => {
      const key = await issueKey(sut, owner, { ...carried, signing: true });
      const unsigned = { key: key.public_key, method: 'POST', path: `/v1/revealed/${key.id}/unsigned` };
      const forged = signedBody('sk_test_not_the_secret', key.public_key!, 'POST', `/v1/revealed/${key.id}/forged`, '{}');
      const stale = signedBody(key.secret, key.public_key!, 'POST', `/v1/revealed/${key.id}/stale`, '', nowSeconds() - 400);
      for (const body of [unsigned, forged, stale]) {
        const answer = await verify(body);
        expect(answer.body).toEqual({ success: true, data: { valid: false, code: 'INVALID_SIGNATURE' } });
        expectNothingOf(JSON.stringify(answer.body.data), key);
      }

      const paths = [unsigned.path, forged.path, stale.path];
      const { value: events } = await waitFor(
        () => loggedChecks(key.id),
        (all) => paths.every((path) => all.some((event) => event.path === path)),
        10_000,
        50,
      );
      for (const path of paths) {
        expect(events.find((event) => event.path === path)).toMatchObject({
          code: 'INVALID_SIGNATURE',
          key_id: key.id,
          org_id: owner.orgId,
        });
      }
    });

    it('documents key_id, org_id, environment, permissions and metadata as fields of a pass only', async () => {
      const document = (await sut.get('/v1/openapi.json')).body;
      const schema = document.components.schemas.KeyVerdictResponseDto;
      expect(schema.required).toEqual(['valid', 'code']);
      for (const field of ['key_id', 'org_id', 'environment', 'permissions', 'metadata']) {
        expect(schema.properties[field].description).toMatch(/^Only when valid is true/);
      }
    });
  });

  describe('malformed bodies', () => {
    it.each([
      ['no body', undefined],
      ['a number key', { key: 123 }],
      ['no key', { environment: 'test' }],
      ['an unknown field', { key: 'sk_test_x', admin: true }],
      ['a zero cost', { key: 'sk_test_x', cost: 0 }],
      ['a bad environment', { key: 'sk_test_x', environment: 'prod' }],
      ['permissions not a list', { key: 'sk_test_x', permissions: 'a:b' }],
      ['a signature without body hash', { key: 'sk_test_x', signature: { timestamp: 1, value: 'ab' } }],
      // What a check stores in the shared usage batch must be text Postgres accepts.
      ['a NUL byte in the path', { key: 'sk_test_x', path: '/v1/items\u0000' }],
      ['an unpaired surrogate in the path', { key: 'sk_test_x', path: '/v1/\ud800items' }],
      ['a NUL byte in the referrer', { key: 'sk_test_x', referrer: 'https://a.example\u0000' }],
      ['a NUL byte in the method', { key: 'sk_test_x', method: 'GET\u0000' }],
      ['an unpaired surrogate in the method', { key: 'sk_test_x', method: '\udc00' }],
      ['a method that is not a token', { key: 'sk_test_x', method: 'GET /admin' }],
      ['an ip that is not an address', { key: 'sk_test_x', ip: 'localhost' }],
      ['a NUL byte in the ip', { key: 'sk_test_x', ip: '10.0.0.1\u0000' }],
    ])('answers 400 VALIDATION_FAILED for %s', async (_, body) => {
      const response = await sut.post(
        '/v1/verify',
        body === undefined ? { headers: { 'content-type': 'application/json' }, rawBody: '{}' } : { body },
      );
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED' } });
    });
  });
});
