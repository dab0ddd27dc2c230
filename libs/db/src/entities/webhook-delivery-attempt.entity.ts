import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { WebhookDelivery } from './webhook-delivery.entity';

/** One HTTP attempt of a delivery, for the delivery log ("webhook logs", seed 003). */
@Entity({ tableName: 'webhook_delivery_attempts' })
export class WebhookDeliveryAttempt {
  [OptionalProps]?: 'id' | 'statusCode' | 'responseBody' | 'error' | 'attemptedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => WebhookDelivery, { deleteRule: 'cascade' })
  delivery!: WebhookDelivery;

  @Property({ type: 'datetime' })
  attemptedAt: Date = new Date();

  @Property({ type: 'integer', nullable: true })
  statusCode: number | null = null;

  @Property({ type: 'integer' })
  durationMs!: number;

  /** The first 1 KiB of the response body. */
  @Property({ type: 'string', length: 1024, nullable: true })
  responseBody: string | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;
}
