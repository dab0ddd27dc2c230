import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { DomainEvent } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue } from '@latchkey/platform';

import { reminderRecipients } from './reminder-audience';
import { MAILED_REMINDER_TYPES } from './reminder-mail-text';
import { REMINDER_MAILS_QUEUE, reminderMailJob, ReminderMailJobData } from './reminder-mails.queue';

const CLOSE_DEADLINE_MS = 2_000;

/**
 * Turns a reminder event into one mail job per recipient. Called by the events-queue
 * consumer for every event after its webhook fan-out, so mail rides on the outbox
 * like webhooks do, and nothing is sent from inside the reminder scan's transaction:
 *
 *  - crash safety: the event is committed with its `reminders_sent` claim; the relay
 *    puts it on the events queue at least once, and an events job that fails or dies
 *    is retried, so the mails are queued at least once;
 *  - no duplicates: the scan claims each milestone once however many workers run
 *    (one event), and the job id is derived from the event id and the user id, so the
 *    same event queued again, by any worker copy, adds nothing;
 *  - SMTP failures are the mail job's own retries (REMINDER_MAIL_JOB_OPTIONS) and never
 *    hold up or repeat the webhook fan-out.
 *
 * "Exactly once" stops at the SMTP server: a worker killed after the server accepted a
 * mail but before BullMQ recorded the job as done sends it again on the retry.
 */
@Injectable()
export class ReminderMailsProducer implements OnApplicationShutdown {
  private readonly logger = new Logger(ReminderMailsProducer.name);
  private readonly queue: Queue<ReminderMailJobData>;

  constructor(
    config: AppConfig,
    private readonly orm: MikroORM,
  ) {
    this.queue = createProducerQueue<ReminderMailJobData>(REMINDER_MAILS_QUEUE, config, this.logger);
  }

  /** Queues the event's mails; answers how many recipients it has (0 for other events, or with mails off). */
  async enqueueFor(event: DomainEvent): Promise<number> {
    if (!MAILED_REMINDER_TYPES.has(event.type)) return 0;
    const keyId = event.data.key_id;
    if (typeof keyId !== 'string') return 0;
    const userIds = await reminderRecipients(this.orm.em.fork() as EntityManager, event.org_id, keyId);
    if (userIds.length === 0) return 0;
    await this.queue.addBulk(userIds.map((userId) => reminderMailJob(event, userId)));
    return userIds.length;
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullmq(this.queue, CLOSE_DEADLINE_MS);
  }
}
