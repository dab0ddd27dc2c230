import { randomBytes } from 'node:crypto';

import { MikroORM } from '@mikro-orm/postgresql';
import { Queue } from 'bullmq';

import { EventType } from '@latchkey/contracts';
import { ApiKey, ApiKeyQuota, OutboxEvent } from '@latchkey/db';
import { MetricsService } from '@latchkey/platform';

import { outboxEventErrors } from '../../../../test/support/event-samples';
import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { waitUntil } from '../../../../test/support/wait-until';
import { Clock } from './clock';
import { KeyRemindersService } from './key-reminders.service';
import { REMINDERS_EVERY_MS, REMINDERS_JOB, REMINDERS_QUEUE, RemindersProcessor } from './reminders.processor';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * Expiry and rotation reminders against Postgres: KeyRemindersService writes
 * `api_key.expiring`, `api_key.expired` and `api_key.rotation_due` to the outbox, each
 * once per key and milestone, and RemindersProcessor runs it from its job scheduler.
 * Time stands still unless a test moves it (the worker's one Clock), so nothing here
 * waits real days. Keys are rows as ApiKeysService leaves them: created, their
 * `expires_at` moved, their secret rolled (`secret_rotated_at`).
 */
describe(KeyRemindersService.name, () => {
  let harness: ServiceHarness;
  let reminders: KeyRemindersService;
  let orgId: string;
  let now: Date;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [Clock, KeyRemindersService, MetricsService, RemindersProcessor] });
    reminders = harness.get(KeyRemindersService);
    orgId = (await seedOrg(harness.em())).orgId;
    now = new Date('2026-12-01T12:00:00.000Z');
    jest.spyOn(harness.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await harness?.close();
  });

  async function newKey(fields: { expiresAt?: Date; createdAt?: Date; quota?: ApiKeyQuota; revokedAt?: Date; inOrg?: string } = {}) {
    const em = harness.em();
    const key = em.create(ApiKey, {
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
    await em.flush();
    return key;
  }

  /** What PATCH /v1/api-keys/:id with `expires_at` leaves. */
  const moveExpiry = (keyId: string, to: Date) => harness.em().nativeUpdate(ApiKey, { id: keyId }, { expiresAt: to });
  /** What POST /v1/api-keys/:id/roll leaves for the rotation policy: a new secret, as old as `at`. */
  const roll = (keyId: string, at: Date) => harness.em().nativeUpdate(ApiKey, { id: keyId }, { secretRotatedAt: at });

  async function eventsFor(keyId: string, type?: EventType): Promise<OutboxEvent[]> {
    const rows = await harness.em().find(OutboxEvent, type ? { type } : {}, { orderBy: { id: 'asc' } });
    // Every event the emitter wrote is what its published schema (WebhookEvent.<type>) says.
    expect(rows.flatMap(outboxEventErrors)).toEqual([]);
    return rows.filter((row) => row.data.key_id === keyId);
  }

  async function sendDue(): Promise<void> {
    await reminders.sendDue();
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
      const firstExpiry = new Date(now.getTime() + 10 * DAY);
      const keyId = (await newKey({ expiresAt: firstExpiry })).id;
      const start = now;
      try {
        now = new Date(firstExpiry.getTime() - 7 * DAY + HOUR);
        await sendDue();
        await sendDue();
        expect(await expiryRemindersOf(keyId)).toEqual([[EventType.ApiKeyExpiring, 7, firstExpiry.toISOString()]]);

        // Extended after its 7-day reminder: the old date passes without a word.
        const secondExpiry = new Date(firstExpiry.getTime() + 30 * DAY);
        await moveExpiry(keyId, secondExpiry);
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
        await moveExpiry(keyId, thirdExpiry);
        now = new Date(thirdExpiry.getTime() - 7 * DAY + HOUR);
        await sendDue();
        await sendDue();
        const sent = await expiryRemindersOf(keyId);
        expect(sent).toHaveLength(5);
        expect(sent[4]).toEqual([EventType.ApiKeyExpiring, 7, thirdExpiry.toISOString()]);
      } finally {
        now = start;
      }
    });

    it('keeps what was sent before expiry dates were part of the record from being sent again (migration)', async () => {
      const migrator = harness.get(MikroORM).getMigrator();
      const record = (keyId: string, kind: string, sentAt: Date) =>
        harness.sql('insert into reminders_sent (key_id, kind, org_id, sent_at) values (?, ?, ?, ?)', [keyId, kind, orgId, sentAt]);
      const kindsOf = async (keyId: string) =>
        (await harness.sql<{ kind: string }>('select kind from reminders_sent where key_id = ? order by kind', [keyId])).map(
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
      // Issued a moment ago; the roll's own fields are key-issuer's (api-keys.e2e-spec.ts, "rolls with a grace period").
      const issuedAt = new Date(now.getTime() - 1_000);
      const keyId = (await newKey({ createdAt: issuedAt })).id;
      const start = now;
      try {
        now = new Date(issuedAt.getTime() + 91 * DAY);
        await sendDue();
        await sendDue();
        let events = await eventsFor(keyId, EventType.ApiKeyRotationDue);
        expect(events.map((event) => event.data.secret_rotated_at)).toEqual([issuedAt.toISOString()]);

        // Rolled moments after creation: the new secret is young again.
        const rolledAt = new Date(issuedAt.getTime() + 500);
        await roll(keyId, rolledAt);
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
      const strict = await seedOrg(harness.em(), 'Strict Org');
      await harness.sql(`update organizations set settings = jsonb_set(settings, '{rotation_policy_days}', '30') where id = ?`, [
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
    let queue: Queue;

    beforeAll(() => {
      queue = harness.queue(REMINDERS_QUEUE);
    });

    it('is registered in the queue (no cron outside it) and a run sends what is due', async () => {
      await waitUntil(async () => (await queue.getJobSchedulers()).length > 0, 5_000, 'the scheduler');
      expect(await queue.getJobSchedulers()).toEqual([expect.objectContaining({ key: REMINDERS_JOB, every: REMINDERS_EVERY_MS })]);

      const key = await newKey({ expiresAt: new Date(now.getTime() + 3 * DAY) });
      await harness.get(RemindersProcessor).runNow();
      await waitUntil(async () => (await eventsFor(key.id)).length > 0, 10_000, 'the scheduled run to send the reminder');
      expect((await eventsFor(key.id)).map((event) => [event.type, event.data.days_left])).toEqual([[EventType.ApiKeyExpiring, 3]]);
    });
  });
});
