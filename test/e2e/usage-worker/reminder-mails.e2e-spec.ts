import { setTimeout as sleep } from 'node:timers/promises';

import { MikroORM } from '@mikro-orm/core';
import { Queue } from 'bullmq';

import { bullPrefix, DomainEvent, EVENTS_QUEUE, EventType } from '@latchkey/contracts';
import { OutboxEvent, User } from '@latchkey/db';
import { MailerService } from '@latchkey/mailer';

import { ReminderMailsProcessor } from '../../../apps/usage-worker/src/reminder-mail/reminder-mails.processor';
import { REMINDER_MAILS_QUEUE, reminderMailJobId } from '../../../apps/usage-worker/src/reminder-mail/reminder-mails.queue';
import { KeyRemindersService } from '../../../apps/usage-worker/src/reminders/key-reminders.service';
import { WebhookFanoutProcessor } from '../../../apps/usage-worker/src/webhook-delivery/webhook-fanout.processor';
import { TestApp } from '../../support/create-test-app';
import { inviteAndAccept, logIn, signUp, UserSession } from '../../support/factories';
import { mailbox } from '../../support/mailbox';
import { SmtpSink } from '../../support/smtp-sink';
import { waitUntil } from '../../support/wait-until';
import { HookReceiver } from '../../support/webhook-fixtures';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE_URL = 'https://console.example.test';

interface Team {
  owner: UserSession;
  admin: UserSession;
  developer: UserSession;
  viewer: UserSession;
  /** An admin whose address is no longer verified (set back in the database). */
  unverifiedAdmin: UserSession;
}

describe('usage-worker: reminder mails (seed 004 expiration alerts)', () => {
  let smtp: SmtpSink;
  let hooks: HookReceiver;
  let sut: TestApp;
  let mailQueue: Queue;
  let eventsQueue: Queue;
  const config = () => ({ SMTP_URL: smtp.url, PUBLIC_BASE_URL: BASE_URL, LOG_LEVEL: 'error', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    hooks = await HookReceiver.start();
    sut = await TestApp.start({ config: config() });
    const connection = { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } };
    mailQueue = new Queue(REMINDER_MAILS_QUEUE, connection);
    eventsQueue = new Queue(EVENTS_QUEUE, connection);
  });

  afterAll(async () => {
    await mailQueue.close();
    await eventsQueue.close();
    await sut.close();
    await smtp.close();
    await hooks.close();
  });

  const db = () => sut.app.get(MikroORM).em.fork();

  async function team(): Promise<Team> {
    const owner = await signUp(sut, { orgName: 'Reminded Org' });
    const member = async (role: string): Promise<UserSession> => {
      const person = await signUp(sut, { orgName: `${role}'s own org` });
      await inviteAndAccept(sut, owner, person, role);
      return logIn(sut, person.email, person.password, owner.orgId);
    };
    const [admin, developer, viewer, unverifiedAdmin] = [
      await member('admin'),
      await member('developer'),
      await member('viewer'),
      await member('admin'),
    ];
    await db().nativeUpdate(User, { id: unverifiedAdmin.userId }, { emailVerifiedAt: null });
    return { owner, admin, developer, viewer, unverifiedAdmin };
  }

  /** A key created through the API by `creator`, expiring 7 days from now less an hour (inside the 7-day window). */
  async function expiringKey(creator: UserSession, name = 'Checkout backend'): Promise<{ id: string; secret: string; expiresAt: string }> {
    const expiresAt = new Date(Date.now() + 7 * DAY - HOUR).toISOString();
    const created = await sut.post('/v1/api-keys', { token: creator.token, body: { name, environment: 'test', expires_at: expiresAt } });
    expect(created.status).toBe(201);
    return { id: created.body.data.id, secret: created.body.data.secret, expiresAt };
  }

  /** The reminder mails received by `email` (not its verification or invitation mails), subject and body decoded. */
  function remindersTo(email: string): { subject: string; raw: string }[] {
    return smtp.received
      .filter((mail) => mail.to.includes(email))
      .map((mail) => decodeMail(mail.raw))
      .filter((mail) => mail.subject.startsWith('Your API key'));
  }

  async function reminderEvent(keyId: string, type = EventType.ApiKeyExpiring): Promise<OutboxEvent> {
    let event: OutboxEvent | undefined;
    await waitUntil(
      async () => {
        const rows = await db().find(OutboxEvent, { type });
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
    // A second worker process on the same database and Redis, as a scaled-out deployment runs.
    const peer = await TestApp.start({ env: sut.env, config: { ...config(), TARGET: 'usage-worker' } });
    try {
      const key = await expiringKey(people.developer);
      const runs = [sut, peer].map((app) => app.app.get(KeyRemindersService));
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
      await Promise.all([sut, peer].map((app) => app.app.get(WebhookFanoutProcessor).handle(asDomainEvent(event))));
      await mailQueueIdle();
      await sleep(300);

      for (const person of recipients) {
        const mails = remindersTo(person.email);
        expect(mails).toHaveLength(1);
        expect(mails[0].subject).toBe('Your API key "Checkout backend" expires in 7 days');
        expect(mails[0].raw).toContain(`${BASE_URL}/console/keys/${key.id}`);
        expect(mails[0].raw).toContain(`sk_test_••••••••${key.secret.slice(-4)}`);
        expect(mails[0].raw).toMatch(/Organisation: +Reminded Org/);
        expect(mails[0].raw).toContain('reminder_emails_enabled');
        expect(mails[0].raw).not.toContain(key.secret);
        expect(mails[0].raw).not.toContain(key.secret.slice(8, 38));
        expect(await (await mailQueue.getJob(reminderMailJobId(event.id, person.userId)))?.isCompleted()).toBe(true);
      }
      // A plain member, and an admin whose address is not verified, get none.
      expect(remindersTo(people.viewer.email)).toEqual([]);
      expect(remindersTo(people.unverifiedAdmin.email)).toEqual([]);
      expect(await mailQueue.getJob(reminderMailJobId(event.id, people.viewer.userId))).toBeUndefined();
      expect(await mailQueue.getJob(reminderMailJobId(event.id, people.unverifiedAdmin.userId))).toBeUndefined();
    } finally {
      await peer.close();
    }
  });

  it('mails through the one MailerService of the process, and skips a creator who has left the org', async () => {
    const people = await team();
    const sent = mailbox(sut);
    const before = sent.length;
    const key = await expiringKey(people.developer, 'Leaver key');
    const membership = (await sut.get('/v1/members', { token: people.owner.token, query: { limit: '100' } })).body.data.find(
      (row: { id: string; user_id: string }) => row.user_id === people.developer.userId,
    );
    expect((await sut.delete(`/v1/members/${membership.id}`, { token: people.owner.token })).status).toBe(200);

    await sut.app.get(KeyRemindersService).sendDue();
    const event = await reminderEvent(key.id);
    await eventsJobDone(event.id);
    await mailQueueIdle();

    expect(remindersTo(people.owner.email)).toHaveLength(1);
    expect(remindersTo(people.admin.email)).toHaveLength(1);
    expect(remindersTo(people.developer.email)).toEqual([]);
    // org-api's mails and the worker's go through the same instance (the all-in-one process builds MailerModule once).
    const reminders = sent.slice(before).filter((mail) => mail.subject === 'Your API key "Leaver key" expires in 7 days');
    expect(reminders.map((mail) => mail.to).sort()).toEqual([people.owner.email, people.admin.email].sort());
  });

  it('sends no mail when the org turned reminder emails off, while the webhook event still goes out', async () => {
    const people = await team();
    const off = await sut.patch('/v1/orgs/current/settings', { token: people.owner.token, body: { reminder_emails_enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body.data.reminder_emails_enabled).toBe(false);
    const endpoint = await sut.post('/v1/webhooks', {
      token: people.owner.token,
      body: { url: hooks.url('/quiet'), events: [EventType.ApiKeyExpiring], environment: 'test' },
    });
    expect(endpoint.status).toBe(201);
    const key = await expiringKey(people.developer, 'Quiet key');

    expect((await sut.app.get(KeyRemindersService).sendDue()).expiring).toBeGreaterThanOrEqual(1);
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
    const mailer = sut.app.get(MailerService);
    const refused = jest.spyOn(mailer, 'send').mockRejectedValueOnce(new Error('421 4.7.0 try again later'));
    try {
      const key = await expiringKey(people.owner, 'Retried key');
      await sut.app.get(KeyRemindersService).sendDue();
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
    const processor = sut.app.get(ReminderMailsProcessor);
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
    const settings = (reminder_emails_enabled: boolean) =>
      sut.patch('/v1/orgs/current/settings', { token: people.owner.token, body: { reminder_emails_enabled } });

    expect((await settings(false)).status).toBe(200);
    expect(await processor.send(job)).toBe('skipped');
    expect((await settings(true)).status).toBe(200);

    const moved = new Date(Date.now() + 20 * DAY).toISOString();
    expect((await sut.patch(`/v1/api-keys/${key.id}`, { token: people.developer.token, body: { expires_at: moved } })).status).toBe(200);
    expect(await processor.send(job)).toBe('skipped');
    // The same job about the key's current date is sent.
    expect(await processor.send({ ...job, event: { ...event, data: { ...event.data, expires_at: moved } } })).toBe('sent');
    expect(
      await processor.send({ ...job, user_id: people.viewer.userId, event: { ...event, data: { ...event.data, expires_at: moved } } }),
    ).toBe('skipped');

    expect((await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: people.developer.token, body: {} })).status).toBe(200);
    expect(await processor.send({ ...job, event: { ...event, data: { ...event.data, expires_at: moved } } })).toBe('skipped');
    await waitUntil(() => remindersTo(people.owner.email).length === 1, 5_000, 'the one mail sent');
  });
});

/** Subject (RFC 2047 encoded words) and quoted-printable UTF-8 body of a raw message: enough of MIME for these mails. */
function decodeMail(raw: string): { subject: string; raw: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const encoded = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
  const subject = encoded
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : quotedPrintable(text.replace(/_/g, ' ')),
    );
  const body = /quoted-printable/i.test(headers) ? quotedPrintable(raw.slice(split + 4).replace(/=\r\n/g, '')) : raw.slice(split + 4);
  return { subject, raw: `${headers}\r\n\r\n${body}` };
}

function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    if (text[index] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(index + 1, index + 3))) {
      bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(text[index], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
