import { Module } from '@nestjs/common';

import { OutboxPruner } from './outbox-pruner.service';
import { WebhookDeliveriesPruner } from './webhook-deliveries-pruner.service';

/**
 * Retention of the tables outside metering that would otherwise only grow. The
 * pruners are exported for the usage maintenance job, the worker's one housekeeping
 * schedule, which runs them once at a time across every worker process.
 */
@Module({
  providers: [OutboxPruner, WebhookDeliveriesPruner],
  exports: [OutboxPruner, WebhookDeliveriesPruner],
})
export class RetentionModule {}
