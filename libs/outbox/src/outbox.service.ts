import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { EventDataOf, EventType } from '@latchkey/contracts';
import { OutboxEvent } from '@latchkey/db';

/**
 * One event to record: its `data` must be what its type's contract says
 * (libs/contracts/src/events/event-payloads.ts), the shape subscribers are promised
 * in the OpenAPI document as `WebhookEvent.<type>`. A union over the event types, so
 * `type` picks the `data` it needs.
 */
export type NewDomainEvent = {
  [T in EventType]: {
    orgId: string;
    environment?: 'test' | 'live' | null;
    type: T;
    /** What subscribers see as `data`: never a secret. */
    data: EventDataOf<T>;
  };
}[EventType];

/**
 * Records a domain event in the outbox. Pass the EntityManager of the change's own
 * transaction: the event then exists exactly when the change committed.
 */
@Injectable()
export class OutboxService {
  add(em: EntityManager, event: NewDomainEvent): OutboxEvent {
    const row = em.create(OutboxEvent, {
      orgId: event.orgId,
      environment: event.environment ?? null,
      type: event.type,
      data: event.data,
    });
    em.persist(row);
    return row;
  }
}
