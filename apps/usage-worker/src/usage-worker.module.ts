import { Module } from '@nestjs/common';

import { AnomaliesModule } from './anomalies/anomalies.module';
import { OutboxRelayModule } from './outbox-relay/outbox-relay.module';
import { ReminderMailModule } from './reminder-mail/reminder-mail.module';
import { RemindersModule } from './reminders/reminders.module';
import { UsageEventsModule } from './usage-events/usage-events.module';
import { WebhookDeliveryModule } from './webhook-delivery/webhook-delivery.module';

/**
 * The usage-worker service: BullMQ producers and consumers. For now the outbox
 * relay; usage aggregation and webhook delivery arrive with their own issues.
 */
@Module({ imports: [AnomaliesModule, OutboxRelayModule, ReminderMailModule, RemindersModule, UsageEventsModule, WebhookDeliveryModule] })
export class UsageWorkerModule {}
