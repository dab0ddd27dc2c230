import { Module } from '@nestjs/common';

import { ReminderMailModule } from '../reminder-mail/reminder-mail.module';
import { EndpointDisabling } from './endpoint-disabling';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { WebhookDeliverySweeper } from './webhook-delivery-sweeper';
import { WebhookDeliveryMetrics } from './webhook-delivery.metrics';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookFanoutProcessor } from './webhook-fanout.processor';

/** Webhooks, worker side: events → deliveries (fan-out) → signed HTTP attempts with retries and breakers; a sweeper re-queues lost jobs. */
@Module({
  imports: [ReminderMailModule],
  providers: [
    EndpointDisabling,
    WebhookDeliveriesProducer,
    WebhookDeliveryMetrics,
    WebhookDeliveryProcessor,
    WebhookDeliverySweeper,
    WebhookFanoutProcessor,
  ],
  exports: [WebhookDeliveriesProducer],
})
export class WebhookDeliveryModule {}
