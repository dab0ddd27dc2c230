import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { metricSum } from '../../support/metrics-text';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';

const HOUR_MS = 3_600_000;

/**
 * Usage as a customer sees it: checks through POST /v1/verify come out of the read
 * endpoints (per-key usage at each granularity, request logs, last_used_at) and the
 * worker's counters on /metrics. Batches added to the usage queue by hand (duplicates,
 * retries, malformed batches, old checks) and the request-log partitions are
 * apps/usage-worker/src/usage-events/record-usage.processor.int-spec.ts.
 */
describe('usage-worker: checks → exact counters, request logs, last_used_at', () => {
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50' } });
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  async function verify(body: Record<string, unknown>): Promise<string> {
    const response = await sut.post('/v1/verify', { body: { method: 'GET', path: '/v1/things', ...body } });
    if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${response.text}`);
    return response.body.data.code as string;
  }

  async function keyUsage(
    keyId: string,
    granularity: 'minute' | 'hour' | 'day',
  ): Promise<{ total: number; codes: Record<string, number> }> {
    const span = granularity === 'day' ? 48 * HOUR_MS : HOUR_MS;
    const response = await sut.get(`/v1/api-keys/${keyId}/usage`, {
      token: owner.token,
      query: { granularity, from: new Date(Date.now() - span).toISOString(), to: new Date(Date.now() + span).toISOString() },
    });
    expect(response.status).toBe(200);
    const buckets = response.body.data.buckets as { total: number; codes: Record<string, number> }[];
    const codes: Record<string, number> = {};
    for (const bucket of buckets) {
      for (const [code, n] of Object.entries(bucket.codes)) if (n > 0) codes[code] = (codes[code] ?? 0) + n;
    }
    return { total: buckets.reduce((sum, bucket) => sum + bucket.total, 0), codes };
  }

  async function logsOf(keyId: string): Promise<{ code: string; method: string; path: string }[]> {
    const rows: { code: string; method: string; path: string }[] = [];
    let cursor: string | undefined;
    do {
      const response = await sut.get('/v1/logs', {
        token: owner.token,
        query: { key_id: keyId, limit: '100', ...(cursor ? { cursor } : {}) },
      });
      expect(response.status).toBe(200);
      rows.push(...(response.body.data as { code: string; method: string; path: string }[]));
      cursor = response.body.next_cursor ?? undefined;
    } while (cursor);
    return rows;
  }

  const metrics = async () => (await sut.get('/metrics')).text;

  it('counts N checks exactly once per code, by minute, hour and day, with a request log each', async () => {
    const limited = await issueKey(sut, owner, { name: 'metered limited', rate_limit: { limit: 37, window_seconds: 3600 } });
    const countedBefore = metricSum(await metrics(), 'usage_events_counted_total');
    const answered: Record<string, number> = {};
    for (let i = 0; i < 42; i += 1) {
      const code = await verify({ key: limited.secret });
      answered[code] = (answered[code] ?? 0) + 1;
    }
    expect(answered).toEqual({ VALID: 37, RATE_LIMITED: 5 });

    await waitUntil(async () => (await keyUsage(limited.id, 'day')).total === 42, 10_000, 'the 42 checks to be counted');
    for (const granularity of ['minute', 'hour', 'day'] as const) {
      expect(await keyUsage(limited.id, granularity)).toEqual({ total: 42, codes: { VALID: 37, RATE_LIMITED: 5 } });
    }
    const logs = await logsOf(limited.id);
    expect(logs).toHaveLength(42);
    expect(logs.filter((row) => row.code === 'RATE_LIMITED')).toHaveLength(5);
    for (const row of logs) expect(row).toMatchObject({ method: 'GET', path: '/v1/things' });

    // The worker counts a batch after its commit, so /metrics may trail the read endpoints by a moment.
    const counted = async () => metricSum(await metrics(), 'usage_events_counted_total') - countedBefore;
    await waitUntil(async () => (await counted()) >= 42, 5_000, 'usage_events_counted_total');
    expect(await counted()).toBe(42);
    const exposition = await metrics();
    expect(exposition).toMatch(/^usage_batches_processed_total\{outcome="counted"\} \d+$/m);
    expect(exposition).toMatch(/^usage_processing_lag_seconds_count \d+$/m);
  });

  it('counts a refused check under its own code, and a check of another key under that key alone', async () => {
    const scoped = await issueKey(sut, owner, { name: 'metered scoped', permissions: ['payments:read'] });
    const other = await issueKey(sut, owner, { name: 'metered other' });
    expect(await verify({ key: scoped.secret, permissions: ['payments:read'] })).toBe('VALID');
    expect(await verify({ key: scoped.secret, permissions: ['reports:write'] })).toBe('INSUFFICIENT_PERMISSIONS');
    expect(await verify({ key: other.secret })).toBe('VALID');

    await waitUntil(async () => (await keyUsage(scoped.id, 'day')).total === 2, 10_000, 'the scoped key’s checks');
    await waitUntil(async () => (await keyUsage(other.id, 'day')).total === 1, 10_000, 'the other key’s check');
    expect(await keyUsage(scoped.id, 'minute')).toEqual({ total: 2, codes: { VALID: 1, INSUFFICIENT_PERMISSIONS: 1 } });
    expect(await keyUsage(other.id, 'minute')).toEqual({ total: 1, codes: { VALID: 1 } });
    expect((await logsOf(other.id)).map((row) => row.code)).toEqual(['VALID']);
  });

  it('keeps last_used_at current within seconds of a check, and leaves it null on a key never used', async () => {
    const used = await issueKey(sut, owner, { name: 'metered used' });
    const unused = await issueKey(sut, owner, { name: 'metered unused' });
    const before = Date.now();
    expect(await verify({ key: used.secret })).toBe('VALID');
    let lastUsed: string | null = null;
    await waitUntil(
      async () => {
        lastUsed = (await sut.get(`/v1/api-keys/${used.id}`, { token: owner.token })).body.data.last_used_at as string | null;
        return lastUsed !== null;
      },
      5_000,
      'last_used_at',
    );
    expect(Date.parse(lastUsed!)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(lastUsed!)).toBeLessThanOrEqual(Date.now());
    expect((await sut.get(`/v1/api-keys/${unused.id}`, { token: owner.token })).body.data.last_used_at).toBeNull();
  });
});
