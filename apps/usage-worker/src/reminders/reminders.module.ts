import { Module } from '@nestjs/common';

import { ClockModule } from './clock.module';
import { KeyRemindersService } from './key-reminders.service';
import { QuotaWatcher } from './quota-watcher.service';
import { RemindersProcessor } from './reminders.processor';
import { SentRemindersPruner } from './sent-reminders-pruner.service';

/**
 * Reminders and quota notices (docs/api-conventions.md#usage-logs-and-alerts):
 * expiry and rotation reminders from a BullMQ job scheduler, and QuotaWatcher,
 * exported for the usage consumer, which calls `observe(events)` once per counted
 * batch. SentRemindersPruner is exported for the usage maintenance job, the worker's
 * one housekeeping schedule.
 */
@Module({
  imports: [ClockModule],
  providers: [KeyRemindersService, QuotaWatcher, RemindersProcessor, SentRemindersPruner],
  exports: [QuotaWatcher, SentRemindersPruner],
})
export class RemindersModule {}
