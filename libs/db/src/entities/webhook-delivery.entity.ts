import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

import { WebhookEndpoint } from './webhook-endpoint.entity';

export const DeliveryStatus = {
  Pending: 'pending',
  Succeeded: 'succeeded',
  /** Every scheduled attempt failed (or the endpoint was disabled); can be retried by hand. */
  Failed: 'failed',
} as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/**
 * One event for one endpoint. The `webhook-id` header is the event id, the same on
 * every attempt, so subscribers can deduplicate. Unique per (endpoint, event): a
 * fan-out that runs twice creates nothing twice.
 */
@Entity({ tableName: 'webhook_deliveries' })
@Unique({ properties: ['endpoint', 'eventId'] })
@Index({ properties: ['endpoint', 'id'] })
export class WebhookDelivery {
  [OptionalProps]?: 'status' | 'attemptCount' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Delivery);

  @Property({ type: 'string' })
  orgId!: string;

  @ManyToOne(() => WebhookEndpoint, { deleteRule: 'cascade' })
  endpoint!: WebhookEndpoint;

  @Property({ type: 'string' })
  eventId!: string;

  @Property({ type: 'string' })
  eventType!: string;

  /** The event envelope exactly as signed and sent. */
  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Enum({ items: () => Object.values(DeliveryStatus), type: 'string' })
  status: DeliveryStatus = DeliveryStatus.Pending;

  @Property({ type: 'integer' })
  attemptCount = 0;

  @Property({ type: 'datetime', nullable: true })
  nextAttemptAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastAttemptAt: Date | null = null;

  @Property({ type: 'integer', nullable: true })
  lastStatusCode: number | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
