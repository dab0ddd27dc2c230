import { Module } from '@nestjs/common';

import { MailerModule } from '@latchkey/mailer';

import { ReminderMailsProcessor } from './reminder-mails.processor';
import { ReminderMailsProducer } from './reminder-mails.producer';

/**
 * Reminder mails (seed 004's expiration alerts): expiry and rotation reminders mailed
 * to the key's creator and the org's owners and admins, next to their webhook events.
 * MailerModule is the same module class org-api imports, so in the all-in-one process
 * Nest builds it once: one MailerService and one SMTP pool for both.
 */
@Module({
  imports: [MailerModule],
  providers: [ReminderMailsProducer, ReminderMailsProcessor],
  exports: [ReminderMailsProducer],
})
export class ReminderMailModule {}
