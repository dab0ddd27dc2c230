import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import { Counter } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { DomainEvent, EventType } from '@latchkey/contracts';
import { MailerService } from '@latchkey/mailer';
import { MetricsService, WorkerHost } from '@latchkey/platform';

import { reminderAddressee, ReminderAddressee } from './reminder-audience';
import { buildReminderMail } from './reminder-mail-text';
import { REMINDER_MAILS_QUEUE, ReminderMailJobData } from './reminder-mails.queue';

/** Mails in flight per worker process: each waits on the SMTP server, not on the CPU. */
const MAIL_CONCURRENCY = 5;
const CLOSE_DEADLINE_MS = 5_000;

export type ReminderMailOutcome = 'sent' | 'skipped';

/**
 * Sends the reminder mails ReminderMailsProducer queued, one job per event and
 * recipient; a failed send throws, and BullMQ retries it with back-off. What to send
 * is decided at send time, so a mail still waiting when things change is not sent:
 * the org turned reminder mails off, the person left or was demoted, the address is
 * no longer verified, the key was revoked, its expiry moved (the new date gets its own
 * reminder) or it was rolled (the new secret starts a new rotation period).
 */
@Injectable()
export class ReminderMailsProcessor extends WorkerHost<ReminderMailJobData, ReminderMailOutcome> {
  private readonly mailsTotal: Counter<'type' | 'outcome'>;

  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
    private readonly mailer: MailerService,
    metrics: MetricsService,
  ) {
    // The failed line names the job by id only: the address and the text stay out of the log.
    super(config, {
      queue: REMINDER_MAILS_QUEUE,
      jobLabel: 'reminder mail',
      concurrency: MAIL_CONCURRENCY,
      closeDeadlineMs: CLOSE_DEADLINE_MS,
    });
    this.mailsTotal = new Counter({
      name: 'reminder_mails_total',
      help: 'Reminder mails by event type: sent, or skipped because the recipient or the key no longer qualified.',
      labelNames: ['type', 'outcome'] as const,
      registers: [metrics.registry],
    });
  }

  process(job: Job<ReminderMailJobData>): Promise<ReminderMailOutcome> {
    return this.send(job.data);
  }

  async send({ event, user_id: userId }: ReminderMailJobData): Promise<ReminderMailOutcome> {
    const keyId = typeof event.data.key_id === 'string' ? event.data.key_id : '';
    const addressee = await reminderAddressee(this.orm.em.fork() as EntityManager, event.org_id, keyId, userId);
    const mail =
      addressee && stillHolds(event, addressee)
        ? buildReminderMail(event, { orgName: addressee.org_name, publicBaseUrl: this.config.get('PUBLIC_BASE_URL') })
        : null;
    if (!addressee || !mail) {
      this.mailsTotal.inc({ type: event.type, outcome: 'skipped' });
      return 'skipped';
    }
    await this.mailer.send({ to: addressee.email, subject: mail.subject, text: mail.text });
    this.mailsTotal.inc({ type: event.type, outcome: 'sent' });
    return 'sent';
  }
}

/** Whether the key is still as the reminder describes it (same expiry date; for rotation, the same secret). */
function stillHolds(event: DomainEvent, key: ReminderAddressee): boolean {
  if (event.type === EventType.ApiKeyRotationDue) return sameInstant(key.secret_rotated_at, event.data.secret_rotated_at);
  return sameInstant(key.expires_at, event.data.expires_at);
}

function sameInstant(current: Date | string | null, announced: unknown): boolean {
  return current !== null && typeof announced === 'string' && new Date(current).getTime() === new Date(announced).getTime();
}
