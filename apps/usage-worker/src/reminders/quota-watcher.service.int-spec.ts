import { randomBytes } from 'node:crypto';

import { EventType, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { ApiKey, ApiKeyQuota, OutboxEvent } from '@latchkey/db';
import { MetricsService } from '@latchkey/platform';

import { outboxEventErrors } from '../../../../test/support/event-samples';
import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { Clock } from './clock';
import { QuotaWatcher } from './quota-watcher.service';

const DAY = 86_400_000;

/**
 * Quota notices against Postgres: QuotaWatcher reads a key's use from the usage
 * counters (VALID checks, day buckets since the period's start) and writes
 * `usage.quota_warning` at 80 % and `usage.quota_exceeded` at 100 % to the outbox,
 * once per key and period. Counters are written here as the usage consumer leaves
 * them; the worker's Clock is moved instead of waiting for a period to turn.
 */
describe(QuotaWatcher.name, () => {
  let harness: ServiceHarness;
  let watcher: QuotaWatcher;
  let orgId: string;
  let now: Date;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [Clock, MetricsService, QuotaWatcher] });
    watcher = harness.get(QuotaWatcher);
    orgId = (await seedOrg(harness.em())).orgId;
    now = new Date('2026-12-01T12:00:00.000Z');
    jest.spyOn(harness.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await harness?.close();
  });

  async function newKey(quota: ApiKeyQuota | null = null): Promise<ApiKey> {
    const em = harness.em();
    const key = em.create(ApiKey, {
      organization: orgId,
      environment: 'live',
      name: 'quota test key',
      prefix: 'sk_live_',
      last4: 'wxyz',
      secretHash: randomBytes(32).toString('hex'),
      createdBy: 'usr_test',
      createdAt: now,
      secretRotatedAt: now,
      quota,
    });
    await em.flush();
    return key;
  }

  async function eventsFor(keyId: string): Promise<OutboxEvent[]> {
    const rows = await harness.em().find(OutboxEvent, {}, { orderBy: { id: 'asc' } });
    // Every event the emitter wrote is what its published schema (WebhookEvent.<type>) says.
    expect(rows.flatMap(outboxEventErrors)).toEqual([]);
    return rows.filter((row) => row.data.key_id === keyId);
  }

  async function setUsage(keyId: string, day: Date, count: number, code: string = VerifyCode.Valid): Promise<void> {
    const bucket = new Date(Math.floor(day.getTime() / DAY) * DAY);
    await harness.sql(
      `insert into usage_counters (key_id, granularity, bucket_start, code, org_id, environment, count)
       values (?, 'day', ?, ?, ?, 'live', ?)
       on conflict (key_id, granularity, bucket_start, code) do update set count = excluded.count`,
      [keyId, bucket, code, orgId, count],
    );
  }

  function batchOf(keyId: string, code: VerifyCode = VerifyCode.Valid): UsageEvent[] {
    return [
      {
        key_id: keyId,
        org_id: orgId,
        environment: 'live',
        code,
        ip: '198.51.100.1',
        method: null,
        path: null,
        at: now.toISOString(),
        latency_us: 90,
      },
    ];
  }

  it('warns at 80 % and reports 100 %, once per key and period', async () => {
    const key = await newKey({ limit: 10, period: 'day' });
    await setUsage(key.id, now, 7);
    await setUsage(key.id, now, 50, VerifyCode.RateLimited);
    await watcher.check(batchOf(key.id));
    expect(await eventsFor(key.id)).toEqual([]);

    await setUsage(key.id, now, 8);
    await watcher.check(batchOf(key.id));
    await watcher.check(batchOf(key.id));
    await setUsage(key.id, now, 9);
    await watcher.observe(batchOf(key.id));
    let events = await eventsFor(key.id);
    expect(events.map((event) => event.type)).toEqual([EventType.UsageQuotaWarning]);
    expect(events[0].data).toMatchObject({
      key_id: key.id,
      period: 'day',
      period_start: '2026-12-01T00:00:00.000Z',
      limit: 10,
      used: 8,
      percent: 80,
    });

    await setUsage(key.id, now, 10);
    await watcher.check(batchOf(key.id));
    await setUsage(key.id, now, 12);
    await watcher.check(batchOf(key.id));
    events = await eventsFor(key.id);
    expect(events.map((event) => event.type)).toEqual([EventType.UsageQuotaWarning, EventType.UsageQuotaExceeded]);
    expect(events[1].data).toMatchObject({ used: 10, percent: 100 });

    // The next day is a new period: usage starts over, and so do the notices.
    const start = now;
    try {
      now = new Date(start.getTime() + DAY);
      await watcher.check(batchOf(key.id));
      expect(await eventsFor(key.id)).toHaveLength(2);
      await setUsage(key.id, now, 9);
      await watcher.check(batchOf(key.id));
      events = await eventsFor(key.id);
      expect(events.map((event) => event.type)).toEqual([
        EventType.UsageQuotaWarning,
        EventType.UsageQuotaExceeded,
        EventType.UsageQuotaWarning,
      ]);
      expect(events[2].data).toMatchObject({ period_start: '2026-12-02T00:00:00.000Z', used: 9 });
    } finally {
      now = start;
    }
  });

  it('sends only quota_exceeded when a key jumps past 100 %, and on a QUOTA_EXCEEDED verdict', async () => {
    const jumper = await newKey({ limit: 100, period: 'month' });
    const start = now;
    try {
      now = new Date('2026-12-10T12:00:00.000Z');
      // Last month's use does not count; this month's days add up.
      await setUsage(jumper.id, new Date('2026-11-26T00:00:00.000Z'), 500);
      await setUsage(jumper.id, new Date('2026-12-03T00:00:00.000Z'), 60);
      await setUsage(jumper.id, now, 15);
      await watcher.check(batchOf(jumper.id));
      expect(await eventsFor(jumper.id)).toEqual([]);
      await setUsage(jumper.id, now, 45);
      await watcher.check(batchOf(jumper.id));
      await watcher.check(batchOf(jumper.id));
    } finally {
      now = start;
    }
    const events = await eventsFor(jumper.id);
    expect(events.map((event) => event.type)).toEqual([EventType.UsageQuotaExceeded]);
    expect(events[0].data).toMatchObject({ period: 'month', period_start: '2026-12-01T00:00:00.000Z', used: 105, limit: 100 });

    const refused = await newKey({ limit: 1_000, period: 'total' });
    await watcher.check(batchOf(refused.id, VerifyCode.QuotaExceeded));
    await watcher.check(batchOf(refused.id, VerifyCode.QuotaExceeded));
    expect((await eventsFor(refused.id)).map((event) => event.type)).toEqual([EventType.UsageQuotaExceeded]);
  });

  it('ignores keys without a quota', async () => {
    const key = await newKey();
    await setUsage(key.id, now, 1_000_000);
    await expect(watcher.check(batchOf(key.id))).resolves.toBe(0);
  });
});
