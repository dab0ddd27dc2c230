import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';

import { DomainEvent, EVENTS_QUEUE, EventType, Role } from '@latchkey/contracts';
import { ApiKey, Membership, OutboxEvent } from '@latchkey/db';
import { Mail, MailerService } from '@latchkey/mailer';
import { MetricsService, RedisService } from '@latchkey/platform';

import { SeededMember, seedMember, seedOrg, seedUser } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { waitUntil } from '../../../../test/support/wait-until';
import { addHookEndpoint, HookReceiver } from '../../../../test/support/webhook-fixtures';
import { EventsQueueProducer } from '../outbox-relay/events-queue.producer';
import { OutboxRelayService } from '../outbox-relay/outbox-relay.service';
import { Clock } from '../reminders/clock';
import { KeyRemindersService } from '../reminders/key-reminders.service';
import { EndpointDisabling } from '../webhook-delivery/endpoint-disabling';
import { WebhookDeliveriesProducer } from '../webhook-delivery/webhook-deliveries.producer';
import { WebhookDeliveryMetrics } from '../webhook-delivery/webhook-delivery.metrics';
import { WebhookDeliveryProcessor } from '../webhook-delivery/webhook-delivery.processor';
import { WebhookFanoutProcessor } from '../webhook-delivery/webhook-fanout.processor';
import { ReminderMailsProcessor } from './reminder-mails.processor';
import { ReminderMailsProducer } from './reminder-mails.producer';
import { REMINDER_MAILS_QUEUE, reminderMailJobId } from './reminder-mails.queue';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE_URL = 'https://console.example.test';

/** What a usage-worker copy runs from a reminder to its mails: the reminder run, the relay, the fan-out, the mail sender. */
const WORKER = [
  Clock,
  EndpointDisabling,
  EventsQueueProducer,
  KeyRemindersService,
  MetricsService,
  OutboxRelayService,
  RedisService,
  ReminderMailsProcessor,
  ReminderMailsProducer,
  WebhookDeliveriesProducer,
  WebhookDeliveryMetrics,
  WebhookDeliveryProcessor,
  WebhookFanoutProcessor,
];

interface Team {
  owner: SeededMember;
  admin: SeededMember;
  developer: SeededMember;
  viewer: SeededMember;
  /** An admin whose address is not verified. */
  unverifiedAdmin: SeededMember;
}

interface TestKey {
  id: string;
  secret: string;
  expiresAt: string;
}

/**
 * Reminder mails (seed 004's expiration alerts) from KeyRemindersService's run to the
 * mail: the reminder event is relayed, fanned out to one mail job per recipient, and
 * ReminderMailsProcessor sends each once, deciding at send time whether it still holds.
 * People, keys and settings are rows as org-api and key-issuer leave them; mails are
 * what the services asked MailerService to send.
 */
describe(ReminderMailsProcessor.name, () => {
  let env: TestEnvironment;
  let hooks: HookReceiver;
  let sut: ServiceHarness;
  let mailQueue: Queue;
  let eventsQueue: Queue;
  const config = { PUBLIC_BASE_URL: BASE_URL, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' };
  /** Every worker copy's harness: the mails of all of them are what the recipients got. */
  const copies: ServiceHarness[] = [];

  beforeAll(async () => {
    env = await TestEnvironment.create();
    hooks = await HookReceiver.start();
    sut = await ServiceHarness.start({ env, providers: WORKER, config });
    copies.push(sut);
    mailQueue = sut.queue(REMINDER_MAILS_QUEUE);
    eventsQueue = sut.queue(EVENTS_QUEUE);
  });

  afterAll(async () => {
    await sut?.close();
    await hooks?.close();
    await env?.destroy();
  });

  async function team(): Promise<Team> {
    const em = sut.em();
    const owner = await seedOrg(em, 'Reminded Org');
    const member = (role: Role) => seedMember(em, owner.orgId, role);
    return {
      owner,
      admin: await member(Role.Admin),
      developer: await member(Role.Developer),
      viewer: await member(Role.Viewer),
      unverifiedAdmin: await seedMember(em, owner.orgId, Role.Admin, await seedUser(em, { verified: false })),
    };
  }

  /** A key as key-issuer leaves it, created by `creator`, expiring 7 days from now less an hour (inside the 7-day window). */
  async function expiringKey(creator: SeededMember, name = 'Checkout backend'): Promise<TestKey> {
    const expiresAt = new Date(Date.now() + 7 * DAY - HOUR);
    const secret = `sk_test_${randomBytes(24).toString('base64url')}`;
    const em = sut.em();
    const key = em.create(ApiKey, {
      organization: creator.orgId,
      environment: 'test',
      name,
      prefix: 'sk_test_',
      last4: secret.slice(-4),
      secretHash: createHash('sha256').update(secret).digest('hex'),
      createdBy: creator.userId,
      expiresAt,
      secretRotatedAt: new Date(),
    });
    await em.flush();
    return { id: key.id, secret, expiresAt: expiresAt.toISOString() };
  }

  /** What PATCH /v1/orgs/current/settings with `reminder_emails_enabled` leaves. */
  const setReminderEmails = (orgId: string, enabled: boolean) =>
    sut.sql(`update organizations set settings = settings || jsonb_build_object('reminder_emails_enabled', ?::boolean) where id = ?`, [
      enabled,
      orgId,
    ]);

  /** The reminder mails sent to `email` by any worker copy. */
  function remindersTo(email: string): Mail[] {
    return copies.flatMap((copy) => copy.mails).filter((mail) => mail.to === email && mail.subject.startsWith('Your API key'));
  }

  async function reminderEvent(keyId: string, type = EventType.ApiKeyExpiring): Promise<OutboxEvent> {
    let event: OutboxEvent | undefined;
    await waitUntil(
      async () => {
        const rows = await sut.em().find(OutboxEvent, { type });
        event = rows.find((row) => row.data.key_id === keyId && row.relayedAt !== null);
        return event !== undefined;
      },
      5_000,
      `a relayed ${type} event of ${keyId}`,
    );
    return event!;
  }

  async function eventsJobDone(eventId: string): Promise<void> {
    await waitUntil(async () => (await (await eventsQueue.getJob(eventId))?.isCompleted()) === true, 5_000, `the events job of ${eventId}`);
  }

  async function mailQueueIdle(): Promise<void> {
    await waitUntil(
      async () => {
        const counts = await mailQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((count) => count === 0);
      },
      5_000,
      'the reminder mail queue to drain',
    );
  }

  function asDomainEvent(row: OutboxEvent): DomainEvent {
    return {
      id: row.id,
      type: row.type,
      created_at: row.createdAt.toISOString(),
      org_id: row.orgId,
      environment: row.environment,
      data: row.data,
    } as DomainEvent;
  }

  it('mails the creator and the owners and admins once each, however many worker copies run the reminder', async () => {
    const people = await team();
    // A second worker copy on the same database and Redis, as a scaled-out deployment runs.
    const peer = await ServiceHarness.start({ env, providers: WORKER, config });
    copies.push(peer);
    try {
      const key = await expiringKey(people.developer);
      const runs = [sut, peer].map((copy) => copy.get(KeyRemindersService));
      await Promise.all([runs[0].sendDue(), runs[1].sendDue(), runs[0].sendDue()]);

      const event = await reminderEvent(key.id);
      const recipients = [people.owner, people.admin, people.developer];
      await waitUntil(
        () => recipients.every((person) => remindersTo(person.email).length >= 1),
        10_000,
        'a reminder mail for each recipient',
      );

      // Everything that could send it again: more runs on both copies, and the events job handled again by each
      // (as after a worker died mid-job), while the first mails are done.
      await Promise.all([runs[0].sendDue(), runs[1].sendDue()]);
      await Promise.all([sut, peer].map((copy) => copy.get(WebhookFanoutProcessor).handle(asDomainEvent(event))));
      await mailQueueIdle();
      await sleep(300);

      for (const person of recipients) {
        const mails = remindersTo(person.email);
        expect(mails).toHaveLength(1);
        expect(mails[0].subject).toBe('Your API key "Checkout backend" expires in 7 days');
        expect(mails[0].text).toContain(`${BASE_URL}/console/keys/${key.id}`);
        expect(mails[0].text).toContain(`sk_test_••••••••${key.secret.slice(-4)}`);
        expect(mails[0].text).toMatch(/Organisation: +Reminded Org/);
        expect(mails[0].text).toContain('reminder_emails_enabled');
        expect(mails[0].text).not.toContain(key.secret);
        expect(mails[0].text).not.toContain(key.secret.slice(8, 38));
        expect(await (await mailQueue.getJob(reminderMailJobId(event.id, person.userId)))?.isCompleted()).toBe(true);
      }
      // A plain member, and an admin whose address is not verified, get none.
      expect(remindersTo(people.viewer.email)).toEqual([]);
      expect(remindersTo(people.unverifiedAdmin.email)).toEqual([]);
      expect(await mailQueue.getJob(reminderMailJobId(event.id, people.viewer.userId))).toBeUndefined();
      expect(await mailQueue.getJob(reminderMailJobId(event.id, people.unverifiedAdmin.userId))).toBeUndefined();
    } finally {
      copies.splice(copies.indexOf(peer), 1);
      await peer.close();
    }
  });

  it('mails through the MailerService, and skips a creator who has left the org', async () => {
    const people = await team();
    const before = sut.mails.length;
    const key = await expiringKey(people.developer, 'Leaver key');
    // What DELETE /v1/members/:id leaves.
    await sut.em().nativeDelete(Membership, { id: people.developer.membershipId });

    await sut.get(KeyRemindersService).sendDue();
    const event = await reminderEvent(key.id);
    await eventsJobDone(event.id);
    await mailQueueIdle();

    expect(remindersTo(people.owner.email)).toHaveLength(1);
    expect(remindersTo(people.admin.email)).toHaveLength(1);
    expect(remindersTo(people.developer.email)).toEqual([]);
    const reminders = sut.mails.slice(before).filter((mail) => mail.subject === 'Your API key "Leaver key" expires in 7 days');
    expect(reminders.map((mail) => mail.to).sort()).toEqual([people.owner.email, people.admin.email].sort());
  });

  it('sends no mail when the org turned reminder emails off, while the webhook event still goes out', async () => {
    const people = await team();
    await setReminderEmails(people.owner.orgId, false);
    await addHookEndpoint(sut, sut.config.ENCRYPTION_KEY, people.owner.orgId, hooks.url('/quiet'), [EventType.ApiKeyExpiring]);
    const key = await expiringKey(people.developer, 'Quiet key');

    expect((await sut.get(KeyRemindersService).sendDue()).expiring).toBeGreaterThanOrEqual(1);
    const event = await reminderEvent(key.id);
    expect(event.data).toMatchObject({ key_id: key.id, days_left: 7 });
    await eventsJobDone(event.id);
    await waitUntil(() => hooks.requests.some((hook) => hook.path === '/quiet'), 5_000, 'the api_key.expiring webhook');
    await mailQueueIdle();
    await sleep(200);

    for (const person of [people.owner, people.admin, people.developer]) {
      expect(remindersTo(person.email)).toEqual([]);
      expect(await mailQueue.getJob(reminderMailJobId(event.id, person.userId))).toBeUndefined();
    }
  });

  it('retries a mail the SMTP server refused, with back-off, and sends it once', async () => {
    const people = await team();
    const mailer = sut.get(MailerService);
    const refused = jest.spyOn(mailer, 'send').mockRejectedValueOnce(new Error('421 4.7.0 try again later'));
    try {
      const key = await expiringKey(people.owner, 'Retried key');
      await sut.get(KeyRemindersService).sendDue();
      const event = await reminderEvent(key.id);
      await eventsJobDone(event.id);
      // Owner (creator too: one mail) and admin; one of the two sends is refused.
      await waitUntil(
        async () => {
          const states = await Promise.all(
            [people.owner, people.admin].map(async (person) =>
              (await mailQueue.getJob(reminderMailJobId(event.id, person.userId)))?.getState(),
            ),
          );
          return states.includes('delayed') && states.includes('completed');
        },
        5_000,
        'one mail sent and one waiting for its retry',
      );
      expect(refused).toHaveBeenCalledTimes(2);
      // The refused send is the first call; its addressee names the job to retry. (Picking by
      // attemptsMade cannot tell: a mail sent on its first try has made one attempt too.)
      const refusedTo = refused.mock.calls[0][0].to;
      const [retried, sent] = refusedTo === people.owner.email ? [people.owner, people.admin] : [people.admin, people.owner];
      expect(retried.email).toBe(refusedTo);
      const waiting = (await mailQueue.getJob(reminderMailJobId(event.id, retried.userId)))!;
      expect(await waiting.getState()).toBe('delayed');
      expect(await (await mailQueue.getJob(reminderMailJobId(event.id, sent.userId)))?.getState()).toBe('completed');
      // The back-off is 30 s and more; the test does not wait for it.
      await waiting.promote();
      await waitUntil(async () => (await waiting.getState()) === 'completed', 5_000, 'the retried mail');
      expect(remindersTo(people.owner.email)).toHaveLength(1);
      expect(remindersTo(people.admin.email)).toHaveLength(1);
    } finally {
      refused.mockRestore();
    }
  });

  it('sends nothing when things changed between queueing and sending: setting off, key revoked, expiry moved', async () => {
    const people = await team();
    const processor = sut.get(ReminderMailsProcessor);
    const key = await expiringKey(people.developer, 'Changing key');
    const event: DomainEvent = {
      id: 'evt_01JD2Z6K3S9Q4W8E7R5T1Y0U2J',
      type: EventType.ApiKeyExpiring,
      created_at: new Date().toISOString(),
      org_id: people.owner.orgId,
      environment: 'test',
      data: {
        key_id: key.id,
        name: 'Changing key',
        prefix: 'sk_test_',
        last4: key.secret.slice(-4),
        expires_at: key.expiresAt,
        days_left: 7,
      },
    };
    const job = { event, user_id: people.owner.userId };

    await setReminderEmails(people.owner.orgId, false);
    expect(await processor.send(job)).toBe('skipped');
    await setReminderEmails(people.owner.orgId, true);

    // What PATCH /v1/api-keys/:id with a new `expires_at` leaves.
    const moved = new Date(Date.now() + 20 * DAY).toISOString();
    await sut.em().nativeUpdate(ApiKey, { id: key.id }, { expiresAt: new Date(moved) });
    expect(await processor.send(job)).toBe('skipped');
    // The same job about the key's current date is sent.
    expect(await processor.send({ ...job, event: { ...event, data: { ...event.data, expires_at: moved } } })).toBe('sent');
    expect(
      await processor.send({ ...job, user_id: people.viewer.userId, event: { ...event, data: { ...event.data, expires_at: moved } } }),
    ).toBe('skipped');

    // What POST /v1/api-keys/:id/revoke leaves.
    await sut.em().nativeUpdate(ApiKey, { id: key.id }, { revokedAt: new Date() });
    expect(await processor.send({ ...job, event: { ...event, data: { ...event.data, expires_at: moved } } })).toBe('skipped');
    await waitUntil(() => remindersTo(people.owner.email).length === 1, 5_000, 'the one mail sent');
  });
});
