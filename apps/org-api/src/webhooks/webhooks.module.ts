import { Module } from '@nestjs/common';

import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/**
 * Webhook endpoint configuration and the delivery log (docs/api-conventions.md#webhooks);
 * delivery itself runs in usage-worker.
 */
@Module({
  controllers: [WebhookDeliveriesController, WebhooksController],
  providers: [WebhookDeliveriesProducer, WebhookDeliveriesService, WebhooksService],
})
export class WebhooksModule {}
