import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Queue } from 'bullmq';

import { bullPrefix, EventType, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { ApiKey, ApiKeyQuota, OutboxEvent } from '@latchkey/db';

import { Clock } from '../../../apps/usage-worker/src/reminders/clock';
import { KeyRemindersService } from '../../../apps/usage-worker/src/reminders/key-reminders.service';
import { QuotaWatcher } from '../../../apps/usage-worker/src/reminders/quota-watcher.service';
import {
  REMINDERS_EVERY_MS,
  REMINDERS_JOB,
  REMINDERS_QUEUE,
  RemindersProcessor,
} from '../../../apps/usage-worker/src/reminders/reminders.processor';
import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('usage-worker: key reminders and quota notices', () => {
  let sut: TestApp;
  let orgId: string;
  let now: Date;

  beforeAll(async () => {
    sut = await TestApp.start();
    orgId = (await signUp(sut)).orgId;
    // Time stands still unless a test moves it: nothing here waits real days.
    now = new Date('2026-12-01T12:00:00.000Z');
    jest.spyOn(sut.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await sut.close();
  });

  function em(): EntityManager {
    return sut.app.get(EntityManager).fork();
  }

  async function newKey(fields: { expiresAt?: Date; createdAt?: Date; quota?: ApiKeyQuota; revokedAt?: Date; inOrg?: string } = {}) {
    const fork = em();
    const key = fork.create(ApiKey, {
      organization: fields.inOrg ?? orgId,
      environment: 'live',
      name: 'reminder test key',
      prefix: 'sk_live_',
      last4: 'wxyz',
      secretHash: randomBytes(32).toString('hex'),
      createdBy: 'usr_test',
      expiresAt: fields.expiresAt ?? null,
      createdAt: fields.createdAt ?? now,
      // Issued with its secret, as ApiKeysService does.
      secretRotatedAt: fields.createdAt ?? now,
      quota: fields.quota ?? null,
      revokedAt: fields.revokedAt ?? null,
    });
    await fork.flush();
    return key;
  }

  async function eventsFor(keyId: string, type?: EventType): Promise<OutboxEvent[]> {
    const rows = await em().find(OutboxEvent, type ? { type } : {}, { orderBy: { id: 'asc' } });
    return rows.filter((row) => row.data.key_id === keyId);
  }

  async function sendDue(): Promise<void> {
    await sut.app.get(KeyRemindersService).sendDue();
  }

  /** `[type, days_left, expires_at]` of each expiry reminder of a key, oldest first. */
  async function expiryRemindersOf(keyId: string): Promise<[string, number | undefined, string][]> {
    const events = [...(await eventsFor(keyId, EventType.ApiKeyExpiring)), ...(await eventsFor(keyId, EventType.ApiKeyExpired))];
    return events
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((event) => [event.type, event.data.days_left as number | undefined, event.data.expires_at as string]);
  }

  describe('expiry', () => {
    it('sends api_key.expiring 7 days and 1 day before, then api_key.expired, each once', async () => {
      const start = now;
      const key = await newKey({ expiresAt: new Date(start.getTime() + 10 * DAY) });
      try {
        await sendDue();
        expect(await eventsFor(key.id)).toEqual([]);

        now = new Date(key.expiresAt!.getTime() - 7 * DAY + HOUR);
        await sendDue();
        await sendDue();
        let events = await eventsFor(key.id);
        expect(events.map((event) => [event.type, event.data.days_left])).toEqual([[EventType.ApiKeyExpiring, 7]]);
        expect(events[0]).toMatchObject({ orgId, environment: 'live' });
        expect(events[0].data).toMatchObject({ key_id: key.id, name: key.name, expires_at: key.expiresAt!.toISOString() });

        now = new Date(key.expiresAt!.getTime() - 3 * DAY);
        await sendDue();
        expect(await eventsFor(key.id)).toHaveLength(1);

        now = new Date(key.expiresAt!.getTime() - DAY + HOUR);
        await sendDue();
        await sendDue();
        events = await eventsFor(key.id);
        expect(events.map((event) => [event.type, event.data.days_left])).toEqual([
          [EventType.ApiKeyExpiring, 7],
          [EventType.ApiKeyExpiring, 1],
        ]);

        now = new Date(key.expiresAt!.getTime() + HOUR);
        await sendDue();
        now = new Date(key.expiresAt!.getTime() + 2 * DAY);
        await sendDue();
        events = await eventsFor(key.id);
        expect(events.map((event) => event.type)).toEqual([EventType.ApiKeyExpiring, EventType.ApiKeyExpiring, EventType.ApiKeyExpired]);
        expect(JSON.stringify(events.map((event) => event.data))).not.toMatch(/secret|hash/i);
      } finally {
        now = start;
      }
    });

    it('sends only the 1-day reminder to a key that starts inside the last day, and nothing for revoked keys', async () => {
      const soon = await newKey({ expiresAt: new Date(now.getTime() + 5 * HOUR) });
      const revoked = await newKey({ expiresAt: new Date(now.getTime() + 2 * DAY), revokedAt: now });
      const longExpired = await newKey({ expiresAt: new Date(now.getTime() - 90 * DAY), createdAt: new Date(now.getTime() - 100 * DAY) });
      await sendDue();
      await sendDue();
      expect((await eventsFor(soon.id)).map((event) => [event.type, event.data.days_left])).toEqual([[EventType.ApiKeyExpiring, 1]]);
      expect(await eventsFor(revoked.id)).toEqual([]);
      // Expired long before (outside the look-back): old news, and expired keys are not due for rotation.
      expect(await eventsFor(longExpired.id)).toEqual([]);
    });
  });

  describe('expiry moved', () => {
    it('reminds a key of its new expiry date, each milestone once per date', async () => {
      const owner = await signUp(sut);
      const firstExpiry = new Date(Date.now() + 10 * DAY);
      const created = await sut.post('/v1/api-keys', {
        token: owner.token,
        body: { name: 'extended later', environment: 'test', expires_at: firstExpiry.toISOString() },
      });
      expect(created.status).toBe(201);
      const keyId = created.body.data.id as string;
      const moveExpiry = async (to: Date) => {
        const patched = await sut.patch(`/v1/api-keys/${keyId}`, { token: owner.token, body: { expires_at: to.toISOString() } });
        expect(patched.status).toBe(200);
        expect(patched.body.data.expires_at).toBe(to.toISOString());
      };
      const start = now;
      try {
        now = new Date(firstExpiry.getTime() - 7 * DAY + HOUR);
        await sendDue();
        await sendDue();
        expect(await expiryRemindersOf(keyId)).toEqual([[EventType.ApiKeyExpiring, 7, firstExpiry.toISOString()]]);

        // Extended after its 7-day reminder: the old date passes without a word.
        const secondExpiry = new Date(firstExpiry.getTime() + 30 * DAY);
        await moveExpiry(secondExpiry);
        await sendDue();
        now = new Date(firstExpiry.getTime() - DAY + HOUR);
        await sendDue();
        now = new Date(firstExpiry.getTime() + HOUR);
        await sendDue();
        expect(await expiryRemindersOf(keyId)).toHaveLength(1);

        // The new date gets every milestone of its own, each once.
        for (const at of [-7 * DAY + HOUR, -3 * DAY, -DAY + HOUR, HOUR, 2 * DAY]) {
          now = new Date(secondExpiry.getTime() + at);
          await sendDue();
          await sendDue();
        }
        expect(await expiryRemindersOf(keyId)).toEqual([
          [EventType.ApiKeyExpiring, 7, firstExpiry.toISOString()],
          [EventType.ApiKeyExpiring, 7, secondExpiry.toISOString()],
          [EventType.ApiKeyExpiring, 1, secondExpiry.toISOString()],
          [EventType.ApiKeyExpired, undefined, secondExpiry.toISOString()],
        ]);

        // Renewed once expired: reminded again, of the third date.
        const thirdExpiry = new Date(secondExpiry.getTime() + 30 * DAY);
        await moveExpiry(thirdExpiry);
        now = new Date(thirdExpiry.getTime() - 7 * DAY + HOUR);
        await sendDue();
        await sendDue();
        const reminders = await expiryRemindersOf(keyId);
        expect(reminders).toHaveLength(5);
        expect(reminders[4]).toEqual([EventType.ApiKeyExpiring, 7, thirdExpiry.toISOString()]);
      } finally {
        now = start;
      }
    });

    it('keeps what was sent before expiry dates were part of the record from being sent again (migration)', async () => {
      const migrator = sut.app.get(MikroORM).getMigrator();
      const record = (keyId: string, kind: string, sentAt: Date) =>
        em().execute('insert into reminders_sent (key_id, kind, org_id, sent_at) values (?, ?, ?, ?)', [keyId, kind, orgId, sentAt]);
      const kindsOf = async (keyId: string) =>
        (await em().execute<{ kind: string }[]>('select kind from reminders_sent where key_id = ? order by kind', [keyId])).map(
          (row) => row.kind,
        );

      const reminded = await newKey({ expiresAt: new Date(now.getTime() + 5 * DAY) });
      const extended = await newKey({ expiresAt: new Date(now.getTime() + 5 * DAY) });
      const expired = await newKey({ expiresAt: new Date(now.getTime() - DAY), createdAt: new Date(now.getTime() - 20 * DAY) });
      const neverExpires = await newKey();

      // Only this migration, whatever was added after it.
      const migration = { migrations: ['Migration20261129230000ExpiryReminders'] };
      await migrator.down(migration);
      try {
        await record(reminded.id, 'expiring_7d', new Date(now.getTime() - HOUR));
        // Sent before this expiry's 7-day window opened: it was about an earlier date.
        await record(extended.id, 'expiring_7d', new Date(now.getTime() - 20 * DAY));
        await record(expired.id, 'expiring_1d', new Date(now.getTime() - DAY - 2 * HOUR));
        await record(expired.id, 'expired', new Date(now.getTime() - HOUR));
        await record(neverExpires.id, 'expired', new Date(now.getTime() - 40 * DAY));
      } finally {
        await migrator.up(migration);
      }

      expect(await kindsOf(reminded.id)).toEqual([`expiring_7d:${reminded.expiresAt!.toISOString()}`]);
      expect(await kindsOf(extended.id)).toEqual([]);
      expect(await kindsOf(expired.id)).toEqual([
        `expired:${expired.expiresAt!.toISOString()}`,
        `expiring_1d:${expired.expiresAt!.toISOString()}`,
      ]);
      expect(await kindsOf(neverExpires.id)).toEqual([]);

      await sendDue();
      expect(await expiryRemindersOf(reminded.id)).toEqual([]);
      expect(await expiryRemindersOf(extended.id)).toEqual([[EventType.ApiKeyExpiring, 5, extended.expiresAt!.toISOString()]]);
      expect(await expiryRemindersOf(expired.id)).toEqual([]);
    });
  });

  describe('rotation', () => {
    it('sends api_key.rotation_due once a key is older than the organisation’s rotation policy, once', async () => {
      const old = await newKey({ createdAt: new Date(now.getTime() - 91 * DAY) });
      const young = await newKey({ createdAt: new Date(now.getTime() - 89 * DAY) });
      await sendDue();
      await sendDue();
      const events = await eventsFor(old.id, EventType.ApiKeyRotationDue);
      expect(events).toHaveLength(1);
      expect(events[0].data).toMatchObject({ key_id: old.id, age_days: 91, rotation_policy_days: 90 });
      expect(await eventsFor(young.id)).toEqual([]);

      const start = now;
      try {
        now = new Date(start.getTime() + 2 * DAY);
        await sendDue();
        expect(await eventsFor(young.id, EventType.ApiKeyRotationDue)).toHaveLength(1);
        expect(await eventsFor(old.id, EventType.ApiKeyRotationDue)).toHaveLength(1);
      } finally {
        now = start;
      }
    });

    it('counts from the last roll, and sends a new reminder once per rotation', async () => {
      const owner = await signUp(sut);
      const created = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'rolled later', environment: 'test' } });
      expect(created.status).toBe(201);
      const keyId = created.body.data.id as string;
      const issuedAt = new Date(created.body.data.secret_rotated_at as string);
      expect(issuedAt.toISOString()).toBe(created.body.data.created_at);
      const start = now;
      try {
        now = new Date(issuedAt.getTime() + 91 * DAY);
        await sendDue();
        await sendDue();
        let events = await eventsFor(keyId, EventType.ApiKeyRotationDue);
        expect(events.map((event) => event.data.secret_rotated_at)).toEqual([issuedAt.toISOString()]);

        // Rolled (on the real clock, moments after creation): the new secret is young again.
        const rolled = await sut.post(`/v1/api-keys/${keyId}/roll`, { token: owner.token, body: { expire_old_in_seconds: 0 } });
        expect(rolled.status).toBe(200);
        const rolledAt = new Date(rolled.body.data.secret_rotated_at as string);
        expect(rolledAt.getTime()).toBeGreaterThan(issuedAt.getTime());
        expect(rolled.body.data.created_at).toBe(created.body.data.created_at);
        now = new Date(rolledAt.getTime() + 89 * DAY);
        await sendDue();
        expect(await eventsFor(keyId, EventType.ApiKeyRotationDue)).toHaveLength(1);

        // One policy period after the roll it is due again, once.
        now = new Date(rolledAt.getTime() + 90 * DAY + HOUR);
        await sendDue();
        await sendDue();
        events = await eventsFor(keyId, EventType.ApiKeyRotationDue);
        expect(events.map((event) => event.data.secret_rotated_at)).toEqual([issuedAt.toISOString(), rolledAt.toISOString()]);
        expect(events[1].data).toMatchObject({ key_id: keyId, age_days: 90, rotation_policy_days: 90, created_at: issuedAt.toISOString() });
      } finally {
        now = start;
      }
    });

    it('follows each organisation’s own policy', async () => {
      const strict = await signUp(sut);
      await em().execute(`update organizations set settings = jsonb_set(settings, '{rotation_policy_days}', '30') where id = ?`, [
        strict.orgId,
      ]);
      const key = await newKey({ inOrg: strict.orgId, createdAt: new Date(now.getTime() - 31 * DAY) });
      await sendDue();
      const events = await eventsFor(key.id, EventType.ApiKeyRotationDue);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ orgId: strict.orgId });
      expect(events[0].data).toMatchObject({ rotation_policy_days: 30 });
    });
  });

  describe('the job scheduler', () => {
    it('is registered in the queue (no cron outside it) and a run sends what is due', async () => {
      const queue = new Queue(REMINDERS_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
      try {
        const schedulers = await queue.getJobSchedulers();
        expect(schedulers).toEqual([expect.objectContaining({ key: REMINDERS_JOB, every: REMINDERS_EVERY_MS })]);

        const key = await newKey({ expiresAt: new Date(now.getTime() + 3 * DAY) });
        await sut.app.get(RemindersProcessor).runNow();
        const deadline = Date.now() + 10_000;
        while ((await eventsFor(key.id)).length === 0 && Date.now() < deadline) await sleep(50);
        expect((await eventsFor(key.id)).map((event) => [event.type, event.data.days_left])).toEqual([[EventType.ApiKeyExpiring, 3]]);
      } finally {
        await queue.close();
      }
    });
  });

  describe('quota notices', () => {
    async function setUsage(keyId: string, day: Date, count: number, code: string = VerifyCode.Valid): Promise<void> {
      const bucket = new Date(Math.floor(day.getTime() / DAY) * DAY);
      await em().execute(
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
      const watcher = sut.app.get(QuotaWatcher);
      const key = await newKey({ quota: { limit: 10, period: 'day' } });
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
      const watcher = sut.app.get(QuotaWatcher);
      const jumper = await newKey({ quota: { limit: 100, period: 'month' } });
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

      const refused = await newKey({ quota: { limit: 1_000, period: 'total' } });
      await watcher.check(batchOf(refused.id, VerifyCode.QuotaExceeded));
      await watcher.check(batchOf(refused.id, VerifyCode.QuotaExceeded));
      expect((await eventsFor(refused.id)).map((event) => event.type)).toEqual([EventType.UsageQuotaExceeded]);
    });

    it('ignores keys without a quota', async () => {
      const key = await newKey();
      await setUsage(key.id, now, 1_000_000);
      await expect(sut.app.get(QuotaWatcher).check(batchOf(key.id))).resolves.toBe(0);
    });
  });
});
