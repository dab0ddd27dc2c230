import { Module } from '@nestjs/common';

import { ClockModule } from './clock.module';
import { KeyRemindersService } from './key-reminders.service';
import { QuotaWatcher } from './quota-watcher.service';
import { RemindersProcessor } from './reminders.processor';

/**
 * Reminders and quota notices (SPEC §6): expiry and rotation reminders from a BullMQ
 * job scheduler, and QuotaWatcher, exported for the usage consumer, which calls
 * `observe(events)` once per counted batch.
 */
@Module({ imports: [ClockModule], providers: [KeyRemindersService, QuotaWatcher, RemindersProcessor], exports: [QuotaWatcher] })
export class RemindersModule {}
