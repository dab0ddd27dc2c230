import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { EntityManager } from '@mikro-orm/postgresql';
import { Queue } from 'bullmq';

import {
  bullPrefix,
  USAGE_BATCH_JOB,
  USAGE_JOB_OPTIONS,
  USAGE_QUEUE,
  UsageBatchJobData,
  usageBatchOf,
  UsageEvent,
  VerifyCode,
} from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

describe('key-issuer: usage statistics, request logs and idle keys', () => {
  let sut: TestApp;
  let queue: Queue<UsageBatchJobData>;
  let team: Awaited<ReturnType<typeof orgWithEveryRole>>;
  let stranger: UserSession;
  /** A fixed past hour, so bucket boundaries are known exactly (and all within test-log retention). */
  const base = new Date(Math.floor((Date.now() - 2 * DAY_MS) / DAY_MS) * DAY_MS + 10 * HOUR_MS);
  const at = (minutes: number) => new Date(base.getTime() + minutes * MINUTE_MS);
  let keyA: { id: string };
  let keyB: { id: string };
  let liveKey: { id: string };
  let strangerKey: { id: string };

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    sut.app.get(EntityManager).fork().execute<T[]>(query, params);

  async function createKey(session: UserSession, body: Record<string, unknown> = {}): Promise<{ id: string }> {
    const response = await sut.post('/v1/api-keys', { token: session.token, body: { name: 'metered', environment: 'test', ...body } });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
    return response.body.data as { id: string };
  }

  function event(session: UserSession, keyId: string, code: VerifyCode, when: Date, environment: 'test' | 'live' = 'test'): UsageEvent {
    return {
      key_id: keyId,
      org_id: session.orgId,
      environment,
      code,
      ip: '198.51.100.4',
      method: 'POST',
      path: '/v1/pay',
      at: when.toISOString(),
      latency_us: 900,
    };
  }

  /** Enqueues one batch as auth-check would and waits until the worker committed it. */
  async function deliver(events: UsageEvent[]): Promise<void> {
    const batchId = `bat_${randomUUID()}`;
    await queue.add(USAGE_BATCH_JOB, usageBatchOf(batchId, events), { ...USAGE_JOB_OPTIONS, jobId: batchId });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await sql('select 1 from usage_processed_batches where batch_id = ?', [batchId])).length > 0) return;
      await sleep(25);
    }
    throw new Error(`batch ${batchId} was not processed`);
  }

  beforeAll(async () => {
    sut = await TestApp.start();
    queue = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
    team = await orgWithEveryRole(sut);
    stranger = await signUp(sut);
    keyA = await createKey(team.owner, { owner_id: 'cus_acme' });
    keyB = await createKey(team.developer, { owner_id: 'cus_acme' });
    expect((await sut.post('/v1/orgs/current/live-access', { token: team.owner.token })).status).toBe(200);
    expect((await sut.post(`/v1/platform/orgs/${team.owner.orgId}/approve-live`, { token: sut.config.PLATFORM_ADMIN_TOKEN })).status).toBe(
      200,
    );
    liveKey = await createKey(team.owner, { environment: 'live' });
    strangerKey = await createKey(stranger);

    await deliver([
      ...Array.from({ length: 3 }, () => event(team.owner, keyA.id, 'VALID', at(0))),
      event(team.owner, keyA.id, 'RATE_LIMITED', at(0)),
      ...Array.from({ length: 2 }, () => event(team.owner, keyA.id, 'VALID', at(2))),
      event(team.owner, keyA.id, 'VALID', at(61)),
      ...Array.from({ length: 4 }, () => event(team.owner, keyB.id, 'VALID', at(5))),
      event(team.owner, keyB.id, 'IP_NOT_ALLOWED', at(5)),
      ...Array.from({ length: 6 }, () => event(team.owner, liveKey.id, 'VALID', at(30), 'live')),
    ]);
    await deliver([...Array.from({ length: 9 }, () => event(stranger, strangerKey.id, 'VALID', at(1)))]);
  });

  afterAll(async () => {
    await queue.close();
    await sut.close();
  });

  describe('GET /v1/api-keys/:id/usage', () => {
    const usage = (keyId: string, query: Record<string, string>, session: UserSession = team.owner) =>
      sut.get(`/v1/api-keys/${keyId}/usage`, { token: session.token, query });

    it('answers per-minute buckets with counts per code, zero-filled over [from, to)', async () => {
      const response = await usage(keyA.id, { granularity: 'minute', from: at(0).toISOString(), to: at(4).toISOString() });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({
        key_id: keyA.id,
        granularity: 'minute',
        from: at(0).toISOString(),
        to: at(4).toISOString(),
        buckets: [
          { start: at(0).toISOString(), total: 4, codes: { VALID: 3, RATE_LIMITED: 1 } },
          { start: at(1).toISOString(), total: 0, codes: {} },
          { start: at(2).toISOString(), total: 2, codes: { VALID: 2 } },
          { start: at(3).toISOString(), total: 0, codes: {} },
        ],
      });
    });

    it('answers hours and days, rounding from down and to up to the bucket', async () => {
      const hours = await usage(keyA.id, { granularity: 'hour', from: at(30).toISOString(), to: at(150).toISOString() });
      expect(hours.body.data.from).toBe(at(0).toISOString());
      expect(hours.body.data.to).toBe(at(180).toISOString());
      expect(hours.body.data.buckets.map((bucket: { total: number }) => bucket.total)).toEqual([6, 1, 0]);

      const days = await usage(keyA.id, {
        granularity: 'day',
        from: new Date(base.getTime() - DAY_MS).toISOString(),
        to: new Date(base.getTime() + DAY_MS).toISOString(),
      });
      expect(days.body.data.buckets).toEqual([
        { start: new Date(base.getTime() - 10 * HOUR_MS - DAY_MS).toISOString(), total: 0, codes: {} },
        { start: new Date(base.getTime() - 10 * HOUR_MS).toISOString(), total: 7, codes: { VALID: 6, RATE_LIMITED: 1 } },
        { start: new Date(base.getTime() - 10 * HOUR_MS + DAY_MS).toISOString(), total: 0, codes: {} },
      ]);
    });

    it('defaults to the last 24 hours', async () => {
      const response = await usage(keyA.id, {});
      expect(response.status).toBe(200);
      expect(response.body.data.granularity).toBe('hour');
      expect(response.body.data.buckets).toHaveLength(24);
    });

    it('refuses too many buckets, an empty range and unknown granularities (400)', async () => {
      const tooMany = await usage(keyA.id, { granularity: 'minute', from: at(0).toISOString(), to: at(1501).toISOString() });
      expect(tooMany.status).toBe(400);
      expect((await usage(keyA.id, { granularity: 'minute', from: at(0).toISOString(), to: at(1500).toISOString() })).status).toBe(200);
      expect((await usage(keyA.id, { from: at(60).toISOString(), to: at(0).toISOString() })).status).toBe(400);
      expect((await usage(keyA.id, { granularity: 'week' })).status).toBe(400);
      expect((await usage(keyA.id, { from: 'yesterday' })).status).toBe(400);
    });

    it('refuses (400) a range reaching back past what its granularity keeps: minute 7 days, hour 90 days; day counts stay', async () => {
      const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
      const minute = await usage(keyA.id, {
        granularity: 'minute',
        from: daysAgo(8),
        to: new Date(Date.parse(daysAgo(8)) + HOUR_MS).toISOString(),
      });
      expect(minute.status).toBe(400);
      expect(minute.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('minute counts are kept 7 days'),
      });
      expect((await usage(keyA.id, { granularity: 'minute', from: daysAgo(6), to: daysAgo(5.99) })).status).toBe(200);
      expect((await usage(keyA.id, { granularity: 'hour', from: daysAgo(91), to: daysAgo(90) })).status).toBe(400);
      expect((await usage(keyA.id, { granularity: 'hour', from: daysAgo(89), to: daysAgo(88) })).status).toBe(200);
      expect((await usage(keyA.id, { granularity: 'day', from: daysAgo(1000), to: daysAgo(0) })).status).toBe(200);

      // The org report reads the coarsest counters its range is aligned to: an old range must be aligned to keep counts.
      // Half past an hour, whatever the clock says (`now - 8 days` is hour-aligned in the first minute of each hour).
      const dayStart = (days: number) => new Date(Math.floor((Date.now() - days * DAY_MS) / DAY_MS) * DAY_MS).toISOString();
      const halfPast = (iso: string) => new Date(Date.parse(iso) + HOUR_MS / 2).toISOString();
      const unaligned = await sut.get('/v1/usage', {
        token: team.owner.token,
        query: { group_by: 'key', from: halfPast(dayStart(8)), to: halfPast(dayStart(1)) },
      });
      expect(unaligned.status).toBe(400);
      const aligned = await sut.get('/v1/usage', {
        token: team.owner.token,
        query: { group_by: 'key', from: dayStart(200), to: dayStart(0) },
      });
      expect(aligned.status).toBe(200);
      expect(aligned.body.data.total).toBe(18);
    });

    it('lets every member read, and answers 404 for another organisation’s key or junk', async () => {
      for (const session of [team.admin, team.developer, team.viewer]) {
        expect((await usage(keyA.id, { granularity: 'day' }, session)).status).toBe(200);
      }
      expect((await usage(strangerKey.id, {})).status).toBe(404);
      expect((await usage(keyA.id, {}, stranger)).status).toBe(404);
      expect((await usage('key_nope', {})).status).toBe(404);
      expect((await sut.get(`/v1/api-keys/${keyA.id}/usage`)).status).toBe(401);
    });
  });

  describe('GET /v1/usage', () => {
    const range = { from: at(0).toISOString(), to: at(120).toISOString() };
    const grouped = async (groupBy: string, session: UserSession = team.owner, query: Record<string, string> = range) => {
      const response = await sut.get('/v1/usage', { token: session.token, query: { group_by: groupBy, ...query } });
      expect(response.status).toBe(200);
      return response.body.data as { total: number; groups: { value: string | null; total: number; codes: Record<string, number> }[] };
    };

    it('groups by key, owner, code and environment, all from the same exact counts', async () => {
      const byKey = await grouped('key');
      expect(byKey.total).toBe(18);
      expect(byKey.groups).toEqual([
        { value: keyA.id, total: 7, codes: { VALID: 6, RATE_LIMITED: 1 } },
        { value: liveKey.id, total: 6, codes: { VALID: 6 } },
        { value: keyB.id, total: 5, codes: { VALID: 4, IP_NOT_ALLOWED: 1 } },
      ]);
      expect((await grouped('owner')).groups).toEqual([
        { value: 'cus_acme', total: 12, codes: { VALID: 10, RATE_LIMITED: 1, IP_NOT_ALLOWED: 1 } },
        { value: null, total: 6, codes: { VALID: 6 } },
      ]);
      expect((await grouped('code')).groups.map(({ value, total }) => [value, total])).toEqual([
        ['VALID', 16],
        ['IP_NOT_ALLOWED', 1],
        ['RATE_LIMITED', 1],
      ]);
      expect((await grouped('environment')).groups.map(({ value, total }) => [value, total])).toEqual([
        ['test', 12],
        ['live', 6],
      ]);
    });

    it('counts only the range asked for, at minute precision, and filters by environment', async () => {
      expect((await grouped('key', team.owner, { from: at(1).toISOString(), to: at(61).toISOString() })).total).toBe(2 + 5 + 6);
      expect((await grouped('code', team.owner, { ...range, environment: 'live' })).total).toBe(6);
    });

    it('shows each organisation only its own usage, to every member', async () => {
      expect((await grouped('key', stranger)).groups).toEqual([{ value: strangerKey.id, total: 9, codes: { VALID: 9 } }]);
      expect((await grouped('code', team.viewer)).total).toBe(18);
      expect((await sut.get('/v1/usage', { token: team.owner.token, query: { group_by: 'planet' } })).status).toBe(400);
      expect((await sut.get('/v1/usage', { token: team.owner.token })).status).toBe(400);
    });
  });

  describe('GET /v1/logs', () => {
    const logs = (query: Record<string, string>, session: UserSession = team.owner) => sut.get('/v1/logs', { token: session.token, query });

    it('lists one row per check, newest first, with every field', async () => {
      const response = await logs({ key_id: keyB.id });
      expect(response.status).toBe(200);
      expect(response.body.data).toHaveLength(5);
      expect(response.body.data[0]).toEqual({
        id: expect.stringMatching(/^req_[0-9A-Z]{26}$/),
        key_id: keyB.id,
        org_id: team.owner.orgId,
        environment: 'test',
        code: expect.any(String),
        ip: '198.51.100.4',
        method: 'POST',
        path: '/v1/pay',
        latency_us: 900,
        at: at(5).toISOString(),
      });
      const all = (await logs({ limit: '100' })).body.data as { at: string }[];
      expect(all).toHaveLength(18);
      expect(all.map((row) => row.at)).toEqual([...all.map((row) => row.at)].sort().reverse());
    });

    it('filters by key, code, environment and time', async () => {
      expect((await logs({ code: 'RATE_LIMITED' })).body.data.map((row: { key_id: string }) => row.key_id)).toEqual([keyA.id]);
      expect((await logs({ code: 'IP_NOT_ALLOWED', key_id: keyA.id })).body.data).toEqual([]);
      expect((await logs({ environment: 'live', limit: '100' })).body.data).toHaveLength(6);
      expect((await logs({ key_id: keyA.id, from: at(1).toISOString(), to: at(61).toISOString() })).body.data).toHaveLength(2);
      expect((await logs({ code: 'NOPE' })).status).toBe(400);
    });

    it('pages with a cursor, never repeating or skipping a row', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const response = await logs({ key_id: keyA.id, limit: '3', ...(cursor ? { cursor } : {}) });
        expect(response.status).toBe(200);
        seen.push(...response.body.data.map((row: { id: string }) => row.id));
        if (!response.body.has_more) break;
        cursor = response.body.next_cursor;
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect(seen).toEqual([...seen].sort().reverse());
      expect((await logs({ cursor: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })).status).toBe(400);
    });

    it('shows each organisation only its own logs', async () => {
      expect((await logs({ key_id: strangerKey.id })).body.data).toEqual([]);
      const theirs = (await logs({ limit: '100' }, stranger)).body.data as { org_id: string }[];
      expect(theirs).toHaveLength(9);
      expect(theirs.every((row) => row.org_id === stranger.orgId)).toBe(true);
      expect((await logs({}, team.viewer)).status).toBe(200);
      expect((await sut.get('/v1/logs')).status).toBe(401);
    });
  });

  describe('GET /v1/api-keys?idle_days=', () => {
    it('lists keys unused for that long, counting never-used keys from their creation', async () => {
      const session = await signUp(sut);
      const oldUnused = await createKey(session);
      const oldUsedLongAgo = await createKey(session);
      const oldUsedNow = await createKey(session);
      const newUnused = await createKey(session);
      await sql(`update api_keys set created_at = now() - interval '200 days' where id in (?, ?, ?)`, [
        oldUnused.id,
        oldUsedLongAgo.id,
        oldUsedNow.id,
      ]);
      await deliver([
        event(session, oldUsedLongAgo.id, 'VALID', new Date(Date.now() - 120 * DAY_MS)),
        event(session, oldUsedNow.id, 'VALID', new Date()),
      ]);

      const idle = await sut.get('/v1/api-keys', { token: session.token, query: { idle_days: '90' } });
      expect(idle.status).toBe(200);
      expect(idle.body.data.map((key: { id: string }) => key.id).sort()).toEqual([oldUnused.id, oldUsedLongAgo.id].sort());
      expect(idle.body.data.map((key: { id: string }) => key.id)).not.toContain(newUnused.id);
      const recent = await sut.get('/v1/api-keys', { token: session.token, query: { idle_days: '150' } });
      expect(recent.body.data.map((key: { id: string }) => key.id)).toEqual([oldUnused.id]);
      expect((await sut.get('/v1/api-keys', { token: session.token, query: { idle_days: '0' } })).status).toBe(400);
      expect((await sut.get('/v1/api-keys', { token: session.token, query: { idle_days: 'lots' } })).status).toBe(400);
    });
  });
});
