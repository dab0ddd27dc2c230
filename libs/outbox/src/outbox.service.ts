import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { EventType } from '@latchkey/contracts';
import { OutboxEvent } from '@latchkey/db';

export interface NewDomainEvent {
  orgId: string;
  environment?: 'test' | 'live' | null;
  type: EventType;
  /** What subscribers see as `data`: never a secret. */
  data: Record<string, unknown>;
}

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
