import { Module } from '@nestjs/common';

import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { WebhookDeliveryMetrics } from './webhook-delivery.metrics';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookFanoutProcessor } from './webhook-fanout.processor';

/** Webhooks, worker side: events → deliveries (fan-out) → signed HTTP attempts with retries and breakers. */
@Module({
  providers: [WebhookDeliveriesProducer, WebhookDeliveryMetrics, WebhookDeliveryProcessor, WebhookFanoutProcessor],
  exports: [WebhookDeliveriesProducer],
})
export class WebhookDeliveryModule {}
