import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

/**
 * A domain event written in the same transaction as the change it announces (the
 * transactional outbox): an event exists if and only if its change committed. The
 * relay copies unrelayed rows to BullMQ with the event id as job id, so a relay
 * that restarts mid-way never enqueues an event twice.
 */
@Entity({ tableName: 'outbox_events' })
export class OutboxEvent {
  [OptionalProps]?: 'environment' | 'createdAt' | 'relayedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Event);

  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'string', nullable: true })
  environment: string | null = null;

  /** `api_key.created`, `member.added`, … (docs/api-conventions.md#webhooks). */
  @Property({ type: 'string' })
  type!: string;

  /** The event's `data`: never a secret. */
  @Property({ type: 'json' })
  data!: Record<string, unknown>;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  relayedAt: Date | null = null;
}
