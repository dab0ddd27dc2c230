import { OrganizationReply, OrgsPattern, PageRequest } from '@latchkey/contracts';
import { ApiKey, DEFAULT_ORGANIZATION_SETTINGS, Organization, UsageGranularity } from '@latchkey/db';
import { IdPrefix, newId, ulidAt } from '@latchkey/ids';
import { RpcClient } from '@latchkey/platform';

import { SeededMember, seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { ListRequestLogsQueryDto } from './dto/list-request-logs-query.dto';
import { UsageGroupBy } from './dto/org-usage-query.dto';
import { MAX_USAGE_BUCKETS, UsageReportsService } from './usage-reports.service';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The read side of metering against Postgres, without the usage worker: counters and
 * request logs are written here as the worker writes them, so each reading rule
 * (zero-filling, bucket rounding, which granularity a range reads, retention windows)
 * is pinned exactly. The worker-to-API round trip is usage-reports.e2e-spec.ts.
 */
describe(UsageReportsService.name, () => {
  let harness: ServiceHarness;
  let reports: UsageReportsService;
  /** Organisation settings the fake org-api answers over RPC. */
  const settingsOf = new Map<string, Partial<OrganizationReply['settings']>>();
  let team: SeededMember;
  let stranger: SeededMember;
  let keyA: ApiKey;
  let keyB: ApiKey;
  let liveKey: ApiKey;
  let strangerKey: ApiKey;
  /** Ten o'clock two days ago (UTC): bucket boundaries are known and every counter is still kept. */
  const base = Math.floor((Date.now() - 2 * DAY_MS) / DAY_MS) * DAY_MS + 10 * HOUR_MS;
  const at = (minutes: number) => new Date(base + minutes * MINUTE_MS);
  const iso = (minutes: number) => at(minutes).toISOString();

  /** The organisation's reply as org-api gives it: only the settings matter to the reports. */
  const orgApi = {
    send: async (pattern: string, payload: { org_id: string }) => {
      if (pattern !== OrgsPattern.GetOrganization) throw new Error(`unexpected RPC ${pattern}`);
      return { id: payload.org_id, settings: { ...DEFAULT_ORGANIZATION_SETTINGS, ...settingsOf.get(payload.org_id) } };
    },
  };

  async function insertKey(member: SeededMember, environment: 'test' | 'live', ownerId: string | null = null): Promise<ApiKey> {
    const em = harness.em();
    const key = em.create(ApiKey, {
      organization: em.getReference(Organization, member.orgId),
      environment,
      name: 'metered',
      prefix: `sk_${environment}_`,
      last4: 'abcd',
      secretHash: newId(IdPrefix.ApiKey),
      createdBy: member.userId,
      ownerId,
    });
    await em.flush();
    return key;
  }

  /** Counts `count` checks of `key` with `code` at `when`, in the counters of `granularities` (the worker bumps all three). */
  async function count(
    key: ApiKey,
    when: Date,
    code: string,
    count: number,
    granularities: UsageGranularity[] = [UsageGranularity.Minute, UsageGranularity.Hour, UsageGranularity.Day],
  ): Promise<void> {
    const sizes = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
    for (const granularity of granularities) {
      const bucket = new Date(Math.floor(when.getTime() / sizes[granularity]) * sizes[granularity]);
      await harness.sql(
        `insert into usage_counters (key_id, granularity, bucket_start, code, org_id, environment, owner_id, count)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (key_id, granularity, bucket_start, code) do update set count = usage_counters.count + excluded.count`,
        [key.id, granularity, bucket, code, key.organization.id, key.environment, key.ownerId, count],
      );
    }
  }

  async function log(key: ApiKey, when: Date, code = 'VALID'): Promise<string> {
    const id = `${IdPrefix.Request}_${ulidAt(when.getTime())}`;
    await harness.sql(
      `insert into request_logs (id, key_id, org_id, environment, code, ip, method, path, latency_us, at)
       values (?, ?, ?, ?, ?, '198.51.100.4', 'POST', '/v1/pay', 900, ?)`,
      [id, key.id, key.organization.id, key.environment, code, when],
    );
    return id;
  }

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [UsageReportsService, { provide: RpcClient, useValue: orgApi }] });
    reports = harness.get(UsageReportsService);
    team = await seedOrg(harness.em());
    stranger = await seedOrg(harness.em());
    keyA = await insertKey(team, 'test', 'cus_acme');
    keyB = await insertKey(team, 'test', 'cus_acme');
    liveKey = await insertKey(team, 'live');
    strangerKey = await insertKey(stranger, 'test');

    await count(keyA, at(0), 'VALID', 3);
    await count(keyA, at(0), 'RATE_LIMITED', 1);
    await count(keyA, at(2), 'VALID', 2);
    await count(keyA, at(61), 'VALID', 1);
    await count(keyB, at(5), 'VALID', 4);
    await count(keyB, at(5), 'IP_NOT_ALLOWED', 1);
    await count(liveKey, at(30), 'VALID', 6);
    await count(strangerKey, at(1), 'VALID', 9);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const inRequest = <T>(work: () => Promise<T>) => harness.inRequest(work);

  describe('keyUsage', () => {
    it('answers every bucket of [from, to), zero-filled, with counts per code', async () => {
      const usage = await inRequest(() =>
        reports.keyUsage(team.principal, keyA.id, { granularity: UsageGranularity.Minute, from: iso(0), to: iso(3) }),
      );
      expect(usage).toEqual({
        key_id: keyA.id,
        granularity: 'minute',
        from: iso(0),
        to: iso(3),
        buckets: [
          { start: iso(0), total: 4, codes: { VALID: 3, RATE_LIMITED: 1 } },
          { start: iso(1), total: 0, codes: {} },
          { start: iso(2), total: 2, codes: { VALID: 2 } },
        ],
      });
    });

    it('rounds from down and to up to whole buckets', async () => {
      const usage = await inRequest(() =>
        reports.keyUsage(team.principal, keyA.id, { granularity: UsageGranularity.Hour, from: iso(30), to: iso(61) }),
      );
      expect([usage.from, usage.to]).toEqual([iso(0), iso(120)]);
      expect(usage.buckets.map((bucket) => bucket.total)).toEqual([6, 1]);
    });

    it('defaults to the buckets before now: 60 minutes, 24 hours or 30 days', async () => {
      const now = new Date(base + 90 * MINUTE_MS);
      for (const [granularity, buckets] of [
        [UsageGranularity.Minute, 60],
        [UsageGranularity.Hour, 24],
        [UsageGranularity.Day, 30],
      ] as const) {
        const usage = await inRequest(() => reports.keyUsage(team.principal, keyA.id, { granularity }, now));
        expect(usage.buckets).toHaveLength(buckets);
      }
      const hours = await inRequest(() => reports.keyUsage(team.principal, keyA.id, {}, now));
      expect(hours.granularity).toBe('hour');
      expect(hours.to).toBe(iso(120));
      expect(hours.buckets.slice(-2).map((bucket) => bucket.total)).toEqual([6, 1]);
    });

    it('answers NOT_FOUND for a key of another organisation, an unknown key and a malformed id', async () => {
      for (const keyId of [strangerKey.id, newId(IdPrefix.ApiKey), 'key_nope']) {
        await expect(inRequest(() => reports.keyUsage(team.principal, keyId, {}))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      }
    });

    it(`refuses more than ${MAX_USAGE_BUCKETS} buckets, an empty range, and minutes older than they are kept`, async () => {
      const minutes = (from: number, to: number) =>
        inRequest(() => reports.keyUsage(team.principal, keyA.id, { granularity: UsageGranularity.Minute, from: iso(from), to: iso(to) }));
      await expect(minutes(0, MAX_USAGE_BUCKETS + 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(minutes(0, MAX_USAGE_BUCKETS)).resolves.toMatchObject({ granularity: 'minute' });
      await expect(minutes(5, 5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      const eightDaysAgo = new Date(Date.now() - 8 * DAY_MS);
      await expect(
        inRequest(() =>
          reports.keyUsage(team.principal, keyA.id, {
            granularity: UsageGranularity.Minute,
            from: eightDaysAgo.toISOString(),
            to: new Date(eightDaysAgo.getTime() + HOUR_MS).toISOString(),
          }),
        ),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('minute counts are kept 7 days') });
    });
  });

  describe('orgUsage', () => {
    const grouped = (groupBy: UsageGroupBy, from: number, to: number, member = team, environment?: 'test' | 'live') =>
      inRequest(() => reports.orgUsage(member.principal, { group_by: groupBy, from: iso(from), to: iso(to), environment }));

    it('groups by key, owner, code and environment, biggest first, only the organisation’s own counts', async () => {
      const byKey = await grouped(UsageGroupBy.Key, 0, 120);
      expect(byKey.total).toBe(18);
      expect(byKey.groups).toEqual([
        { value: keyA.id, total: 7, codes: { VALID: 6, RATE_LIMITED: 1 } },
        { value: liveKey.id, total: 6, codes: { VALID: 6 } },
        { value: keyB.id, total: 5, codes: { VALID: 4, IP_NOT_ALLOWED: 1 } },
      ]);
      expect((await grouped(UsageGroupBy.Owner, 0, 120)).groups).toEqual([
        { value: 'cus_acme', total: 12, codes: { VALID: 10, RATE_LIMITED: 1, IP_NOT_ALLOWED: 1 } },
        { value: null, total: 6, codes: { VALID: 6 } },
      ]);
      expect((await grouped(UsageGroupBy.Environment, 0, 120)).groups.map(({ value, total }) => [value, total])).toEqual([
        ['test', 12],
        ['live', 6],
      ]);
      expect((await grouped(UsageGroupBy.Code, 0, 120, team, 'live')).total).toBe(6);
      expect((await grouped(UsageGroupBy.Key, 0, 120, stranger)).groups).toEqual([
        { value: strangerKey.id, total: 9, codes: { VALID: 9 } },
      ]);
    });

    it('reads the coarsest counters the range is aligned to: days, else hours, else minutes', async () => {
      const other = await seedOrg(harness.em());
      const key = await insertKey(other, 'test');
      // One check in each granularity's counters alone, so the answer says which were read.
      await count(key, at(0), 'VALID', 1, [UsageGranularity.Day]);
      await count(key, at(0), 'VALID', 10, [UsageGranularity.Hour]);
      await count(key, at(0), 'VALID', 100, [UsageGranularity.Minute]);
      const dayStart = -10 * 60;
      expect((await grouped(UsageGroupBy.Code, dayStart, dayStart + 24 * 60, other)).total).toBe(1);
      expect((await grouped(UsageGroupBy.Code, 0, 60, other)).total).toBe(10);
      expect((await grouped(UsageGroupBy.Code, 0, 30, other)).total).toBe(100);
    });

    it('counts only the minutes asked for when the range is not aligned to hours', async () => {
      expect((await grouped(UsageGroupBy.Key, 1, 61)).total).toBe(2 + 5 + 6);
    });
  });

  describe('listLogs', () => {
    const page = (limit = 20, cursor?: string): PageRequest => ({ limit, cursor });
    const query = (fields: Partial<ListRequestLogsQueryDto> = {}) => Object.assign(new ListRequestLogsQueryDto(), fields);

    it("shows only the rows inside the organisation's own retention, per environment", async () => {
      const org = await seedOrg(harness.em());
      const testKey = await insertKey(org, 'test');
      const live = await insertKey(org, 'live');
      const now = new Date();
      const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
      const recentTest = await log(testKey, daysAgo(1));
      await log(testKey, daysAgo(3));
      const recentLive = await log(live, daysAgo(3));
      await log(live, daysAgo(91));

      // Defaults: test 7 days, live 90.
      const byDefault = await inRequest(() => reports.listLogs(org.principal, query(), page(), now));
      expect(byDefault.items).toHaveLength(3);
      settingsOf.set(org.orgId, { request_log_retention_test_days: 2, request_log_retention_live_days: 30 });
      const own = await inRequest(() => reports.listLogs(org.principal, query(), page(), now));
      expect(own.items.map((row) => row.id)).toEqual([recentTest, recentLive]);
    });

    it('pages newest first with a cursor, never repeating or skipping a row, and refuses a foreign cursor', async () => {
      const org = await seedOrg(harness.em());
      const key = await insertKey(org, 'test');
      const ids: string[] = [];
      for (let minute = 0; minute < 7; minute += 1) ids.push(await log(key, new Date(Date.now() - DAY_MS + minute * MINUTE_MS)));

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const answer = await inRequest(() => reports.listLogs(org.principal, query({ key_id: key.id }), page(3, cursor)));
        seen.push(...answer.items.map((row) => row.id));
        cursor = answer.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      await expect(inRequest(() => reports.listLogs(org.principal, query(), page(3, newId(IdPrefix.ApiKey))))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('never shows another organisation’s rows', async () => {
      await log(strangerKey, new Date(Date.now() - HOUR_MS));
      const mine = await inRequest(() => reports.listLogs(team.principal, query({ key_id: strangerKey.id }), page()));
      expect(mine.items).toEqual([]);
    });
  });
});
