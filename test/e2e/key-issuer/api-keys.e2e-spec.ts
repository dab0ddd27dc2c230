import { parseApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { HookReceiver } from '../../support/webhook-fixtures';

type Team = Awaited<ReturnType<typeof orgWithEveryRole>>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY_MS = 86_400_000;

describe('API keys (key-issuer)', () => {
  let sut: TestApp;
  let team: Team;
  /** Subscribed to team's api_key.* events: what the outbox relayed, as a subscriber gets it. */
  let hooks: HookReceiver;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    team = await orgWithEveryRole(sut);
    hooks = await HookReceiver.start();
    const endpoint = await sut.post('/v1/webhooks', {
      token: team.owner.token,
      body: { url: hooks.url(), events: ['api_key.created', 'api_key.deleted'], environment: 'test' },
    });
    if (endpoint.status !== 201) throw new Error(`webhook endpoint: ${endpoint.status} ${endpoint.text}`);
  });

  afterAll(async () => {
    await sut.close();
    await hooks?.close();
  });

  /** The types of the events delivered about `id`, in the order they were sent. */
  const eventsAbout = (id: string) =>
    hooks.requests
      .map((request) => JSON.parse(request.body) as { type: string; created_at: string; data: { id?: string } })
      .filter((event) => event.data.id === id)
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((event) => event.type);

  /** The audit log's actions about `targetId`, oldest first, as an owner of `session`'s organisation reads them. */
  const auditAbout = async (session: UserSession, targetId: string) => {
    const response = await sut.get('/v1/audit-logs', { token: session.token, query: { target_id: targetId } });
    expect(response.status).toBe(200);
    return (response.body.data as Array<{ id: string; action: string }>).reverse();
  };

  async function createKey(session: UserSession, body: Record<string, unknown> = {}) {
    const response = await sut.post('/v1/api-keys', { token: session.token, body: { name: 'k', environment: 'test', ...body } });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
    return response.body.data as Record<string, any> & { id: string; secret: string };
  }

  /** How many keys GET /v1/api-keys lists for `session`'s organisation, every page. */
  const keyCount = async (session: UserSession) => {
    let count = 0;
    let cursor: string | null = null;
    do {
      const page: any = await sut.get('/v1/api-keys', { token: session.token, query: { limit: '100', ...(cursor && { cursor }) } });
      if (page.status !== 200) throw new Error(`list failed: ${page.status} ${page.text}`);
      count += page.body.data.length;
      cursor = page.body.next_cursor;
    } while (cursor);
    return count;
  };

  describe('POST /v1/api-keys', () => {
    it('issues a key with every field and shows the secret once', async () => {
      const response = await sut.post('/v1/api-keys', {
        token: team.developer.token,
        body: {
          name: '  Checkout backend  ',
          description: 'Charges cards',
          environment: 'test',
          expires_in_days: 30,
          permissions: ['payments:read', 'payments:write', 'reports.export:*'],
          restrictions: {
            ip_allowlist: ['203.0.113.7', '10.1.2.3/8', '2001:DB8::/32'],
            referrers: ['https://*.Example.com'],
            endpoints: [{ method: 'get', path: '/v1/payments/*' }],
          },
          rate_limit: { limit: 100, window_seconds: 60 },
          quota: { limit: 10000, period: 'month' },
          metadata: { currency: 'fiat', nested: { a: [1, 2] } },
          owner_id: 'cus_123',
        },
      });
      expect(response.status).toBe(201);
      const key = response.body.data;
      expect(parseApiKey(key.secret)).toMatchObject({ kind: 'sk', environment: 'test' });
      expect(key.secret).toHaveLength(46);
      expect(key).toEqual({
        id: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
        name: 'Checkout backend',
        description: 'Charges cards',
        environment: 'test',
        prefix: 'sk_test_',
        masked: `sk_test_••••••••${key.secret.slice(-4)}`,
        created_at: expect.stringMatching(ISO),
        // The secret is as old as the key until its first roll.
        secret_rotated_at: key.created_at,
        created_by: team.developer.userId,
        owner_id: 'cus_123',
        expires_at: expect.stringMatching(ISO),
        last_used_at: null,
        status: 'active',
        revoked_at: null,
        disabled_at: null,
        permissions: ['payments:read', 'payments:write', 'reports.export:*'],
        restrictions: {
          ip_allowlist: ['203.0.113.7/32', '10.0.0.0/8', '2001:db8::/32'],
          referrers: ['https://*.example.com'],
          endpoints: [{ method: 'GET', path: '/v1/payments/*' }],
        },
        rate_limit: { limit: 100, window_seconds: 60 },
        quota: { limit: 10000, period: 'month' },
        metadata: { currency: 'fiat', nested: { a: [1, 2] } },
        signing: false,
        public_key: null,
        updated_at: expect.stringMatching(ISO),
        secret: expect.any(String),
      });
      expect(Math.abs(Date.parse(key.expires_at) - Date.now() - 30 * DAY_MS)).toBeLessThan(60_000);

      const read = await sut.get(`/v1/api-keys/${key.id}`, { token: team.viewer.token });
      expect(read.status).toBe(200);
      const withoutSecret: Record<string, unknown> = { ...key };
      delete withoutSecret.secret;
      expect(read.body.data).toEqual(withoutSecret);
      expect(read.text).not.toContain(key.secret);
    });

    it('issues a signing key with a pk_ public key and its secret sealed', async () => {
      const key = await createKey(team.admin, { signing: true });
      expect(key.signing).toBe(true);
      expect(parseApiKey(key.public_key)).toMatchObject({ kind: 'pk', environment: 'test' });
      // How the secret is stored (sealed): api-keys.service.int-spec.ts.
      expect(JSON.stringify(key)).not.toMatch(/sealed|hash/);
    });

    it('takes expires_at, the org default, or never', async () => {
      const at = new Date(Date.now() + 5 * DAY_MS).toISOString();
      expect((await createKey(team.owner, { expires_at: at })).expires_at).toBe(at);
      expect((await createKey(team.owner)).expires_at).toBeNull();
      const settings = await sut.patch('/v1/orgs/current/settings', {
        token: team.owner.token,
        body: { default_expiry_days: 10, allowed_expiry_presets: [7, 14] },
      });
      expect(settings.status).toBe(200);
      try {
        const key = await createKey(team.owner);
        expect(Math.abs(Date.parse(key.expires_at) - Date.now() - 10 * DAY_MS)).toBeLessThan(60_000);
        expect((await createKey(team.owner, { expires_in_days: 14 })).expires_at).toBeTruthy();
        const refused = await sut.post('/v1/api-keys', {
          token: team.owner.token,
          body: { name: 'k', environment: 'test', expires_in_days: 30 },
        });
        expect(refused.status).toBe(400);
        expect(refused.body.error.details[0].field).toBe('expires_in_days');
      } finally {
        await sut.patch('/v1/orgs/current/settings', {
          token: team.owner.token,
          body: { default_expiry_days: null, allowed_expiry_presets: [30, 60, 90] },
        });
      }
    });

    const past = new Date(Date.now() - DAY_MS).toISOString();
    const future = new Date(Date.now() + DAY_MS).toISOString();
    it.each([
      ['name', { name: '' }],
      ['name', { name: '   ' }],
      ['name', { name: 'x'.repeat(101) }],
      ['name', { name: 42 }],
      ['name', { name: undefined }],
      ['description', { description: 'x'.repeat(501) }],
      ['environment', { environment: 'prod' }],
      ['environment', { environment: undefined }],
      ['expires_in_days', { expires_in_days: 45 }],
      ['expires_in_days', { expires_in_days: 0 }],
      ['expires_in_days', { expires_in_days: '30' }],
      ['expires_at', { expires_at: past }],
      ['expires_at', { expires_at: 'tomorrow' }],
      ['expires_at', { expires_at: future, expires_in_days: 30 }],
      ['permissions', { permissions: 'payments:read' }],
      ['permissions', { permissions: ['payments read'] }],
      ['permissions', { permissions: ['a:b', 'a:b'] }],
      ['permissions', { permissions: Array.from({ length: 101 }, (_, i) => `p${i}`) }],
      ['permissions', { permissions: [':read'] }],
      ['restrictions', { restrictions: [] }],
      ['restrictions.ip_allowlist', { restrictions: { ip_allowlist: ['10.0.0.0/33'] } }],
      ['restrictions.ip_allowlist', { restrictions: { ip_allowlist: ['localhost'] } }],
      ['restrictions.ip_allowlist', { restrictions: { ip_allowlist: ['2001:db8::/129'] } }],
      ['restrictions.ip_allowlist', { restrictions: { ip_allowlist: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) } }],
      ['restrictions.referrers', { restrictions: { referrers: ['example.com'] } }],
      ['restrictions.referrers', { restrictions: { referrers: ['https://example.com/path'] } }],
      ['restrictions.endpoints', { restrictions: { endpoints: ['GET /x'] } }],
      ['restrictions.endpoints.0.method', { restrictions: { endpoints: [{ method: 'FETCH', path: '/x' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: 'x' }] } }],
      // Ambiguous once normalised: auth-check refuses such request paths, so a key with one could never match.
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/public/../admin' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/public/..' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/%2e%2E/admin' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/./x' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/a%2Fb' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/a%5cb' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/a%00' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/%zz' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/a%2' }] } }],
      ['restrictions.endpoints.0.path', { restrictions: { endpoints: [{ method: 'GET', path: '/v1/..;x/y' }] } }],
      // Multi-wildcard patterns past the key's budget: each costs auth-check time on every check.
      [
        'restrictions.endpoints',
        { restrictions: { endpoints: Array.from({ length: 5 }, (_, i) => ({ method: 'GET', path: `/${'*a'.repeat(120)}${i}` })) } },
      ],
      ['restrictions.other', { restrictions: { other: [] } }],
      ['rate_limit', { rate_limit: 5 }],
      ['rate_limit.limit', { rate_limit: { limit: 0, window_seconds: 60 } }],
      ['rate_limit.limit', { rate_limit: { limit: 1_000_001, window_seconds: 60 } }],
      ['rate_limit.window_seconds', { rate_limit: { limit: 1, window_seconds: 86_401 } }],
      ['quota.limit', { quota: { limit: 1_000_000_001, period: 'day' } }],
      ['quota.period', { quota: { limit: 10, period: 'week' } }],
      ['metadata', { metadata: [] }],
      ['metadata', { metadata: 'x' }],
      ['metadata', { metadata: { blob: 'x'.repeat(4096) } }],
      ['owner_id', { owner_id: 'x'.repeat(201) }],
      ['owner_id', { owner_id: 7 }],
      ['signing', { signing: 'yes' }],
      ['secret', { secret: 'sk_test_mine' }],
    ])('refuses a bad %s (case %#) with 400 and creates nothing', async (field, overrides) => {
      const before = await keyCount(team.owner);
      const response = await sut.post('/v1/api-keys', { token: team.owner.token, body: { name: 'k', environment: 'test', ...overrides } });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect(await keyCount(team.owner)).toBe(before);
    });

    it.each([
      { permissions: [] },
      { permissions: ['a', 'payments:read', 'x.y-z_w:*:sub'] },
      { restrictions: { ip_allowlist: ['::1', '0.0.0.0/0', '192.168.0.0/16'] } },
      { restrictions: { referrers: ['http://localhost:3000', '*://*.example.com', 'https://app.example.com:*'] } },
      {
        restrictions: {
          endpoints: [
            { method: '*', path: '/' },
            { method: 'DELETE', path: '/v1/items/{id}' },
          ],
        },
      },
      {
        restrictions: {
          endpoints: [
            { method: 'GET', path: '/v1/payments/*' },
            { method: 'GET', path: '/v1/%7Euser/{id}' },
            { method: 'GET', path: '/.well-known/openid-configuration' },
            { method: 'GET', path: '/v1/files/a..b/*' },
            { method: 'GET', path: '/v1/q%3Fx;v=1' },
          ],
        },
      },
      { rate_limit: null, quota: null },
      { rate_limit: { limit: 1_000_000, window_seconds: 86_400 }, quota: { limit: 1_000_000_000, period: 'total' } },
      { metadata: { blob: 'x'.repeat(4000) } },
      { description: '', owner_id: 'x'.repeat(200), expires_in_days: 90 },
    ])('accepts good values (case %#)', async (overrides) => {
      const response = await sut.post('/v1/api-keys', { token: team.owner.token, body: { name: 'k', environment: 'test', ...overrides } });
      expect(response.status).toBe(201);
    });

    it('says what an endpoint path may not hold, on create and on edit', async () => {
      const body = { restrictions: { endpoints: [{ method: 'GET', path: '/v1/public/%2e%2e/admin' }] } };
      const created = await sut.post('/v1/api-keys', { token: team.owner.token, body: { name: 'k', environment: 'test', ...body } });
      expect(created.status).toBe(400);
      expect(created.body.error.details).toEqual([
        { field: 'restrictions.endpoints.0.path', message: expect.stringMatching(/without \. or \.\. segments.*%2F, %5C, %00/) },
      ]);
      const key = await createKey(team.owner);
      const edited = await sut.patch(`/v1/api-keys/${key.id}`, { token: team.owner.token, body });
      expect(edited.status).toBe(400);
      expect(edited.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['restrictions.endpoints.0.path']);
    });

    it('refuses live keys until the platform approved live access', async () => {
      const owner = await signUp(sut);
      const refused = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'live', environment: 'live' } });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('LIVE_MODE_NOT_ENABLED');
      expect((await sut.post('/v1/orgs/current/live-access', { token: owner.token })).status).toBe(200);
      const stillRefused = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'live', environment: 'live' } });
      expect(stillRefused.body.error.code).toBe('LIVE_MODE_NOT_ENABLED');
      const approved = await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, { token: sut.config.PLATFORM_ADMIN_TOKEN });
      expect(approved.status).toBe(200);
      const key = await createKey(owner, { environment: 'live', signing: true });
      expect(key.secret.startsWith('sk_live_')).toBe(true);
      expect(key.public_key.startsWith('pk_live_')).toBe(true);
      expect(key.masked.startsWith('sk_live_')).toBe(true);
      expect(await keyCount(owner)).toBe(1);
    });
  });

  describe('GET /v1/api-keys', () => {
    let org: UserSession;
    let second: UserSession;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      org = await signUp(sut);
      second = await signUp(sut);
      ids.alpha = (await createKey(org, { name: 'Alpha payments', description: 'charges' })).id;
      ids.beta = (await createKey(org, { name: 'Beta', description: 'Reports 100% export_x', owner_id: 'cus_1' })).id;
      ids.gamma = (await createKey(org, { name: 'Gamma', owner_id: 'cus_1' })).id;
      ids.disabled = (await createKey(org, { name: 'Disabled one' })).id;
      ids.revoked = (await createKey(org, { name: 'Revoked one' })).id;
      // The API takes only a future expiry: one a moment ahead, passed before the cases run.
      ids.expired = (await createKey(org, { name: 'Expired one', expires_at: new Date(Date.now() + 1_000).toISOString() })).id;
      await sut.post(`/v1/api-keys/${ids.disabled}/disable`, { token: org.token });
      await sut.post(`/v1/api-keys/${ids.revoked}/revoke`, { token: org.token });
      await waitUntil(
        async () => (await sut.get(`/v1/api-keys/${ids.expired}`, { token: org.token })).body.data.status === 'expired',
        10_000,
        'the expiring key to expire',
      );
      await createKey(second, { name: 'Alpha of another tenant' });
    });

    const names = (response: { body: { data: { name: string }[] } }) => response.body.data.map((key) => key.name);

    it('lists the organisation’s keys newest first, paged by cursor', async () => {
      const all = await sut.get('/v1/api-keys', { token: org.token });
      expect(all.status).toBe(200);
      expect(names(all)).toEqual(['Expired one', 'Revoked one', 'Disabled one', 'Gamma', 'Beta', 'Alpha payments']);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await sut.get(`/v1/api-keys?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { token: org.token });
        expect(page.status).toBe(200);
        seen.push(...names(page));
        cursor = page.body.next_cursor;
        expect(page.body.has_more).toBe(cursor !== null);
      } while (cursor);
      expect(seen).toEqual(names(all));
    });

    it('derives the status, expired included, and filters on it', async () => {
      const all = await sut.get('/v1/api-keys', { token: org.token });
      const status = Object.fromEntries(all.body.data.map((key: { name: string; status: string }) => [key.name, key.status]));
      expect(status).toEqual({
        'Expired one': 'expired',
        'Revoked one': 'revoked',
        'Disabled one': 'disabled',
        Gamma: 'active',
        Beta: 'active',
        'Alpha payments': 'active',
      });
      expect(names(await sut.get('/v1/api-keys?status=expired', { token: org.token }))).toEqual(['Expired one']);
      expect(names(await sut.get('/v1/api-keys?status=revoked', { token: org.token }))).toEqual(['Revoked one']);
      expect(names(await sut.get('/v1/api-keys?status=disabled', { token: org.token }))).toEqual(['Disabled one']);
      expect(names(await sut.get('/v1/api-keys?status=active', { token: org.token }))).toEqual(['Gamma', 'Beta', 'Alpha payments']);
      expect((await sut.get(`/v1/api-keys/${ids.expired}`, { token: org.token })).body.data.status).toBe('expired');
    });

    it('searches name, description, prefix and id, and filters', async () => {
      const search = async (query: string) => names(await sut.get(`/v1/api-keys?${query}`, { token: org.token }));
      expect(await search('search=alpha')).toEqual(['Alpha payments']);
      expect(await search('search=CHARGES')).toEqual(['Alpha payments']);
      expect(await search(`search=${encodeURIComponent('100%')}`)).toEqual(['Beta']);
      expect(await search('search=t_x')).toEqual(['Beta']);
      expect(await search(`search=${ids.gamma}`)).toEqual(['Gamma']);
      expect(await search('search=sk_test')).toHaveLength(6);
      expect(await search('search=nothing-like-this')).toEqual([]);
      expect(await search('owner_id=cus_1')).toEqual(['Gamma', 'Beta']);
      expect(await search(`created_by=${org.userId}&environment=test&status=active&owner_id=cus_1&search=gam`)).toEqual(['Gamma']);
      expect(await search('environment=live')).toEqual([]);
      expect(await search(`created_by=${second.userId}`)).toEqual([]);
    });

    it('refuses bad query parameters', async () => {
      for (const query of ['status=paused', 'environment=prod', 'limit=0', 'cursor=zzz', 'search=', 'sort=name']) {
        const response = await sut.get(`/v1/api-keys?${query}`, { token: org.token });
        expect(response.status).toBe(400);
      }
      expect((await sut.get('/v1/api-keys')).status).toBe(401);
    });
  });

  describe('PATCH /v1/api-keys/:id', () => {
    it('edits every editable field and refuses the rest', async () => {
      const key = await createKey(team.developer, { signing: true });
      const at = new Date(Date.now() + 3 * DAY_MS).toISOString();
      const response = await sut.patch(`/v1/api-keys/${key.id}`, {
        token: team.developer.token,
        body: {
          name: 'Renamed',
          description: null,
          expires_at: at,
          permissions: ['a:b'],
          restrictions: { referrers: ['https://example.com'] },
          rate_limit: { limit: 5, window_seconds: 1 },
          quota: { limit: 5, period: 'day' },
          metadata: { tier: 'gold' },
          owner_id: 'cus_9',
        },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({
        name: 'Renamed',
        description: null,
        expires_at: at,
        permissions: ['a:b'],
        restrictions: { ip_allowlist: [], referrers: ['https://example.com'], endpoints: [] },
        rate_limit: { limit: 5, window_seconds: 1 },
        quota: { limit: 5, period: 'day' },
        metadata: { tier: 'gold' },
        owner_id: 'cus_9',
        signing: true,
        public_key: key.public_key,
      });
      expect(response.body.data).not.toHaveProperty('secret');
      // Restriction lists left out keep their value.
      const merged = await sut.patch(`/v1/api-keys/${key.id}`, {
        token: team.developer.token,
        body: { restrictions: { ip_allowlist: ['10.0.0.1'] }, expires_at: null, rate_limit: null, quota: null },
      });
      expect(merged.body.data).toMatchObject({
        restrictions: { ip_allowlist: ['10.0.0.1/32'], referrers: ['https://example.com'], endpoints: [] },
        expires_at: null,
        rate_limit: null,
        quota: null,
      });

      for (const body of [
        {},
        { environment: 'live' },
        { signing: false },
        { name: null },
        { name: '' },
        { permissions: null },
        { metadata: null },
        { expires_at: new Date(Date.now() - 1000).toISOString() },
        { restrictions: { ip_allowlist: ['nope'] } },
      ]) {
        const refused = await sut.patch(`/v1/api-keys/${key.id}`, { token: team.developer.token, body });
        expect({ body, status: refused.status, code: refused.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      }
    });

    it('refuses to edit a revoked key (409 KEY_REVOKED)', async () => {
      const key = await createKey(team.owner);
      await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: team.owner.token });
      for (const [method, url, body] of [
        ['PATCH', `/v1/api-keys/${key.id}`, { name: 'x' }],
        ['POST', `/v1/api-keys/${key.id}/roll`, {}],
        ['POST', `/v1/api-keys/${key.id}/disable`, undefined],
        ['POST', `/v1/api-keys/${key.id}/enable`, undefined],
      ] as const) {
        const response = await sut.call(method, url, { token: team.owner.token, body });
        expect(response.status).toBe(409);
        expect(response.body.error.code).toBe('KEY_REVOKED');
      }
    });
  });

  describe('roll, disable/enable, revoke, delete', () => {
    it('rolls with a grace period for the old secret', async () => {
      const key = await createKey(team.developer, { signing: true });
      // What is stored through the grace period: api-keys.service.int-spec.ts.
      const rolled = await sut.post(`/v1/api-keys/${key.id}/roll`, { token: team.developer.token, body: { expire_old_in_seconds: 3600 } });
      expect(rolled.status).toBe(200);
      const secret = rolled.body.data.secret;
      expect(secret).not.toBe(key.secret);
      expect(rolled.body.data.public_key).toBe(key.public_key);
      expect(rolled.body.data.masked).toBe(`sk_test_••••••••${secret.slice(-4)}`);
      // The rotation policy starts over with the new secret; the key keeps its creation time.
      expect(new Date(rolled.body.data.secret_rotated_at).getTime()).toBeGreaterThan(new Date(key.secret_rotated_at).getTime());
      expect((await sut.get(`/v1/api-keys/${key.id}`, { token: team.developer.token })).body.data.secret_rotated_at).toBe(
        rolled.body.data.secret_rotated_at,
      );
      expect(rolled.body.data.created_at).toBe(key.created_at);

      const defaulted = await sut.post(`/v1/api-keys/${key.id}/roll`, { token: team.developer.token });
      expect(defaulted.status).toBe(200);
      expect(defaulted.body.data.secret).not.toBe(secret);

      const immediate = await sut.post(`/v1/api-keys/${key.id}/roll`, { token: team.developer.token, body: { expire_old_in_seconds: 0 } });
      expect(immediate.status).toBe(200);

      for (const value of [-1, 604_801, 1.5, '60']) {
        const refused = await sut.post(`/v1/api-keys/${key.id}/roll`, {
          token: team.developer.token,
          body: { expire_old_in_seconds: value },
        });
        expect(refused.status).toBe(400);
        expect(refused.body.error.details[0].field).toBe('expire_old_in_seconds');
      }
    });

    it('disables and enables, idempotently', async () => {
      const key = await createKey(team.owner);
      const disabled = await sut.post(`/v1/api-keys/${key.id}/disable`, { token: team.owner.token });
      expect(disabled.status).toBe(200);
      expect(disabled.body.data).toMatchObject({ status: 'disabled', disabled_at: expect.stringMatching(ISO) });
      const again = await sut.post(`/v1/api-keys/${key.id}/disable`, { token: team.owner.token });
      expect(again.body.data.disabled_at).toBe(disabled.body.data.disabled_at);
      const enabled = await sut.post(`/v1/api-keys/${key.id}/enable`, { token: team.owner.token });
      expect(enabled.status).toBe(200);
      expect(enabled.body.data).toMatchObject({ status: 'active', disabled_at: null });
      expect((await sut.post(`/v1/api-keys/${key.id}/enable`, { token: team.owner.token })).status).toBe(200);
      const audit = await auditAbout(team.owner, key.id);
      expect(audit.map((row) => row.action)).toEqual(['api_key.created', 'api_key.disabled', 'api_key.enabled']);
    });

    it('revokes for good; revoking again answers the same state', async () => {
      const key = await createKey(team.owner);
      const revoked = await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: team.owner.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.data).toMatchObject({ status: 'revoked', revoked_at: expect.stringMatching(ISO) });
      const again = await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: team.owner.token });
      expect(again.status).toBe(200);
      expect(again.body.data).toEqual(revoked.body.data);
    });

    it('deletes for good; the audit row and the event keep the id', async () => {
      const key = await createKey(team.owner);
      const deleted = await sut.delete(`/v1/api-keys/${key.id}`, { token: team.owner.token });
      expect(deleted.status).toBe(200);
      expect(deleted.body.data.id).toBe(key.id);
      expect((await sut.get(`/v1/api-keys/${key.id}`, { token: team.owner.token })).status).toBe(404);
      expect((await sut.delete(`/v1/api-keys/${key.id}`, { token: team.owner.token })).status).toBe(404);
      expect((await sut.get('/v1/api-keys', { token: team.owner.token, query: { search: key.id } })).body.data).toEqual([]);
      const audit = await auditAbout(team.owner, key.id);
      expect(audit.map((row) => row.action)).toEqual(['api_key.created', 'api_key.deleted']);
      await waitUntil(() => eventsAbout(key.id).length >= 2, 10_000, 'both events to be delivered');
      expect(eventsAbout(key.id)).toEqual(['api_key.created', 'api_key.deleted']);
    });
  });

  describe('role rules', () => {
    let otherDeveloperKey: string;

    beforeAll(async () => {
      otherDeveloperKey = (await createKey(team.admin, { name: 'admin’s key' })).id;
    });

    it('lets every member read every key', async () => {
      for (const role of ['owner', 'admin', 'developer', 'viewer'] as const) {
        expect((await sut.get(`/v1/api-keys/${otherDeveloperKey}`, { token: team[role].token })).status).toBe(200);
        expect((await sut.get('/v1/api-keys', { token: team[role].token })).status).toBe(200);
      }
    });

    it('refuses every change to a viewer', async () => {
      const own = otherDeveloperKey;
      const calls = [
        sut.post('/v1/api-keys', { token: team.viewer.token, body: { name: 'v', environment: 'test' } }),
        sut.patch(`/v1/api-keys/${own}`, { token: team.viewer.token, body: { name: 'v' } }),
        sut.post(`/v1/api-keys/${own}/disable`, { token: team.viewer.token }),
        sut.post(`/v1/api-keys/${own}/enable`, { token: team.viewer.token }),
        sut.post(`/v1/api-keys/${own}/roll`, { token: team.viewer.token }),
        sut.post(`/v1/api-keys/${own}/revoke`, { token: team.viewer.token }),
        sut.delete(`/v1/api-keys/${own}`, { token: team.viewer.token }),
      ];
      for (const response of await Promise.all(calls)) {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
    });

    it('lets a developer change only the keys they created', async () => {
      const before = await sut.get(`/v1/api-keys/${otherDeveloperKey}`, { token: team.owner.token });
      for (const [method, url, body] of [
        ['PATCH', `/v1/api-keys/${otherDeveloperKey}`, { name: 'mine now' }],
        ['POST', `/v1/api-keys/${otherDeveloperKey}/disable`, undefined],
        ['POST', `/v1/api-keys/${otherDeveloperKey}/enable`, undefined],
        ['POST', `/v1/api-keys/${otherDeveloperKey}/roll`, {}],
        ['POST', `/v1/api-keys/${otherDeveloperKey}/revoke`, undefined],
        ['DELETE', `/v1/api-keys/${otherDeveloperKey}`, undefined],
      ] as const) {
        const response = await sut.call(method, url, { token: team.developer.token, body });
        expect({ url, method, status: response.status, code: response.body.error?.code }).toEqual({
          url,
          method,
          status: 403,
          code: 'INSUFFICIENT_ROLE',
        });
      }
      expect((await sut.get(`/v1/api-keys/${otherDeveloperKey}`, { token: team.owner.token })).body).toEqual(before.body);

      const own = await createKey(team.developer);
      expect((await sut.patch(`/v1/api-keys/${own.id}`, { token: team.developer.token, body: { name: 'ok' } })).status).toBe(200);
      expect((await sut.post(`/v1/api-keys/${own.id}/disable`, { token: team.developer.token })).status).toBe(200);
      expect((await sut.post(`/v1/api-keys/${own.id}/enable`, { token: team.developer.token })).status).toBe(200);
      expect((await sut.post(`/v1/api-keys/${own.id}/roll`, { token: team.developer.token })).status).toBe(200);
      expect((await sut.post(`/v1/api-keys/${own.id}/revoke`, { token: team.developer.token })).status).toBe(200);
      expect((await sut.delete(`/v1/api-keys/${own.id}`, { token: team.developer.token })).status).toBe(200);
    });

    it('lets owners and admins manage a developer’s key', async () => {
      for (const role of ['owner', 'admin'] as const) {
        const key = await createKey(team.developer);
        expect((await sut.patch(`/v1/api-keys/${key.id}`, { token: team[role].token, body: { name: role } })).status).toBe(200);
        expect((await sut.post(`/v1/api-keys/${key.id}/roll`, { token: team[role].token })).status).toBe(200);
        expect((await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: team[role].token })).status).toBe(200);
        expect((await sut.delete(`/v1/api-keys/${key.id}`, { token: team[role].token })).status).toBe(200);
      }
    });
  });

  describe('tenant isolation', () => {
    it('answers 404 for another organisation’s key on every endpoint and changes nothing', async () => {
      const stranger = await signUp(sut);
      const theirs = await createKey(stranger, { signing: true });
      const rowBefore = (await sut.get(`/v1/api-keys/${theirs.id}`, { token: stranger.token })).body.data;
      const auditBefore = await auditAbout(stranger, theirs.id);
      expect(auditBefore.map((row) => row.action)).toEqual(['api_key.created']);
      for (const role of ['owner', 'developer'] as const) {
        const token = team[role].token;
        const calls = [
          sut.get(`/v1/api-keys/${theirs.id}`, { token }),
          sut.patch(`/v1/api-keys/${theirs.id}`, { token, body: { name: 'hijacked' } }),
          sut.post(`/v1/api-keys/${theirs.id}/disable`, { token }),
          sut.post(`/v1/api-keys/${theirs.id}/enable`, { token }),
          sut.post(`/v1/api-keys/${theirs.id}/roll`, { token, body: { expire_old_in_seconds: 0 } }),
          sut.post(`/v1/api-keys/${theirs.id}/revoke`, { token }),
          sut.delete(`/v1/api-keys/${theirs.id}`, { token }),
        ];
        for (const response of await Promise.all(calls)) {
          expect(response.status).toBe(404);
          expect(response.body.error.code).toBe('NOT_FOUND');
        }
      }
      expect((await sut.get(`/v1/api-keys/${theirs.id}`, { token: team.viewer.token })).status).toBe(404);
      const listed = await sut.get(`/v1/api-keys?search=${theirs.id}`, { token: team.owner.token });
      expect(listed.body.data).toEqual([]);
      expect((await sut.get(`/v1/api-keys/${theirs.id}`, { token: stranger.token })).body.data).toEqual(rowBefore);
      expect(await auditAbout(stranger, theirs.id)).toEqual(auditBefore);
      for (const junk of ['nope', 'key_123', 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I']) {
        expect((await sut.get(`/v1/api-keys/${junk}`, { token: team.owner.token })).status).toBe(404);
        expect((await sut.post(`/v1/api-keys/${junk}/revoke`, { token: team.owner.token })).status).toBe(404);
      }
    });
  });
});
