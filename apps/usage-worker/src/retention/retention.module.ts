import { Module } from '@nestjs/common';

import { EndedCredentialsPruner } from './ended-credentials-pruner.service';
import { OutboxPruner } from './outbox-pruner.service';
import { WebhookDeliveriesPruner } from './webhook-deliveries-pruner.service';

/**
 * Retention of the tables outside metering that would otherwise only grow. The
 * pruners are exported for the usage maintenance job, the worker's one housekeeping
 * schedule, which runs them once at a time across every worker process.
 */
@Module({
  providers: [EndedCredentialsPruner, OutboxPruner, WebhookDeliveriesPruner],
  exports: [EndedCredentialsPruner, OutboxPruner, WebhookDeliveriesPruner],
})
export class RetentionModule {}
