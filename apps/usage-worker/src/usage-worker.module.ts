import { Module } from '@nestjs/common';

import { OutboxRelayModule } from './outbox-relay/outbox-relay.module';

/**
 * The usage-worker service: BullMQ producers and consumers. For now the outbox
 * relay; usage aggregation and webhook delivery arrive with their own issues.
 */
@Module({ imports: [OutboxRelayModule] })
export class UsageWorkerModule {}
