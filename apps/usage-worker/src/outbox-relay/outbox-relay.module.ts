import { Module } from '@nestjs/common';

import { EventsQueueProducer } from './events-queue.producer';
import { OutboxRelayService } from './outbox-relay.service';

/** The transactional outbox's relay: committed domain events → EVENTS_QUEUE (BullMQ). */
@Module({ providers: [EventsQueueProducer, OutboxRelayService], exports: [EventsQueueProducer] })
export class OutboxRelayModule {}
