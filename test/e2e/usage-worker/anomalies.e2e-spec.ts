import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';

/** The default of denials_per_key_per_minute (docs/api-conventions.md#usage-logs-and-alerts). */
const DENIALS_PER_KEY_PER_MINUTE = 50;

interface AlertBody {
  id: string;
  org_id: string;
  key_id: string | null;
  environment: string | null;
  type: string;
  severity: string;
  details: Record<string, unknown>;
  acknowledged_at: string | null;
}

/**
 * Anomaly alerts as a tenant meets them: refused checks through POST /v1/verify come
 * out of GET /v1/alerts, once per episode, and only to the key's organisation. Each
 * rule's thresholds, baselines and episodes, with checks at fixed times, are
 * apps/usage-worker/src/anomalies/anomaly-detector.service.int-spec.ts.
 */
describe('usage-worker: anomaly alerts from checks through /v1/verify', () => {
  let sut: TestApp;
  let owner: UserSession;
  let stranger: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50' } });
    owner = await signUp(sut);
    stranger = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  async function alertsOf(session: UserSession): Promise<AlertBody[]> {
    const response = await sut.get('/v1/alerts', { token: session.token, query: { limit: '100' } });
    expect(response.status).toBe(200);
    return response.body.data as AlertBody[];
  }

  it('alerts the key’s organisation once when refused checks in a minute reach the threshold', async () => {
    const key = await issueKey(sut, owner, { name: 'refused a lot', permissions: ['payments:read'] });
    // Twice the threshold, so that one minute holds at least the threshold even if the checks straddle two.
    for (let i = 0; i < 2 * DENIALS_PER_KEY_PER_MINUTE; i += 1) {
      const response = await sut.post('/v1/verify', {
        body: { key: key.secret, method: 'GET', path: '/v1/x', permissions: ['reports:write'] },
      });
      expect(response.body.data.code).toBe('INSUFFICIENT_PERMISSIONS');
    }

    let alerts: AlertBody[] = [];
    await waitUntil(
      async () => (alerts = (await alertsOf(owner)).filter((alert) => alert.key_id === key.id)).length > 0,
      15_000,
      'the denial-burst alert',
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      org_id: owner.orgId,
      key_id: key.id,
      environment: 'test',
      type: 'denial_burst',
      severity: 'warning',
      acknowledged_at: null,
    });
    expect(alerts[0].details).toMatchObject({ threshold: DENIALS_PER_KEY_PER_MINUTE });
    expect(Number(alerts[0].details.denials)).toBeGreaterThanOrEqual(DENIALS_PER_KEY_PER_MINUTE);
    expect(JSON.stringify(alerts[0])).not.toContain(key.secret);

    // Another organisation sees none of it.
    expect((await alertsOf(stranger)).filter((alert) => alert.key_id === key.id)).toEqual([]);
  });

  it('raises nothing for a few refusals among valid checks', async () => {
    const key = await issueKey(sut, owner, { name: 'mostly fine', permissions: ['payments:read'] });
    for (let i = 0; i < 20; i += 1) {
      await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path: '/v1/x', permissions: ['payments:read'] } });
    }
    for (let i = 0; i < 5; i += 1) {
      await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path: '/v1/x', permissions: ['reports:write'] } });
    }
    // Once the checks are counted, the detector has seen them (it runs on each counted batch).
    await waitUntil(
      async () => {
        const response = await sut.get(`/v1/api-keys/${key.id}/usage`, {
          token: owner.token,
          query: { granularity: 'day', from: new Date(Date.now() - 86_400_000).toISOString() },
        });
        return (response.body.data.buckets as { total: number }[]).reduce((sum, bucket) => sum + bucket.total, 0) === 25;
      },
      10_000,
      'the 25 checks to be counted',
    );
    expect((await alertsOf(owner)).filter((alert) => alert.key_id === key.id)).toEqual([]);
  });
});
