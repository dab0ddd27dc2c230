import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { metricSum } from '../../support/metrics-text';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';

const HOUR_MS = 3_600_000;

/**
 * Checks Postgres would refuse (a NUL byte, a lone surrogate) as a client meets them:
 * POST /v1/verify refuses such a path before it becomes usage, so the quarantine stays
 * empty and nothing is counted for it; and the quarantine listing is the platform
 * operator's alone. What the usage worker does with such events when a batch carries
 * them (they are set aside, the rest is counted once) is
 * apps/usage-worker/src/usage-events/usage-quarantine.int-spec.ts; the listing's pages
 * are apps/org-api/src/platform-admin/platform-usage-quarantine.controller.int-spec.ts.
 */
describe('usage-worker: checks Postgres would refuse are turned away, the quarantine is the operator’s', () => {
  let sut: TestApp;
  let tenant: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50' } });
    tenant = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  async function dayTotal(keyId: string): Promise<number> {
    const response = await sut.get(`/v1/api-keys/${keyId}/usage`, {
      token: tenant.token,
      query: {
        granularity: 'day',
        from: new Date(Date.now() - 48 * HOUR_MS).toISOString(),
        to: new Date(Date.now() + HOUR_MS).toISOString(),
      },
    });
    expect(response.status).toBe(200);
    return (response.body.data.buckets as { total: number }[]).reduce((sum, bucket) => sum + bucket.total, 0);
  }

  it('refuses a check whose path Postgres could not store, counts only the good checks, and quarantines nothing', async () => {
    const key = await issueKey(sut, tenant, { name: 'poisoned paths' });
    for (const path of ['/v1/a\u0000b', '/v1/\ud800', '\udc00']) {
      const refused = await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_FAILED');
      expect(refused.body.error.details).toEqual([{ field: 'path', message: 'path must not contain NUL bytes or unpaired surrogates' }]);
    }
    const good = await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path: '/v1/items/1' } });
    expect(good.body.data.code).toBe('VALID');

    await waitUntil(async () => (await dayTotal(key.id)) >= 1, 10_000, 'the good check to be counted');
    expect(await dayTotal(key.id)).toBe(1);
    expect(metricSum((await sut.get('/metrics')).text, 'usage_events_quarantined_total')).toBe(0);
    const listed = await sut.get('/v1/platform/usage-quarantine', { token: sut.config.PLATFORM_ADMIN_TOKEN });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([]);
  });

  it('lists quarantined events to the platform operator only', async () => {
    const listed = await sut.get('/v1/platform/usage-quarantine', { token: sut.config.PLATFORM_ADMIN_TOKEN, query: { limit: '2' } });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ success: true, data: [], has_more: false });

    const asMember = await sut.get('/v1/platform/usage-quarantine', { token: tenant.token });
    expect(asMember.status).toBe(401);
    expect(asMember.body.success).toBe(false);
    const anonymous = await sut.get('/v1/platform/usage-quarantine');
    expect(anonymous.status).toBe(401);
  });
});
