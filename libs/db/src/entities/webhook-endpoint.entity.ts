import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

import { Organization } from './organization.entity';

export const WebhookDisabledReason = {
  /** An admin paused it. */
  Manual: 'manual',
  /** The subscriber answered 410 Gone (Standard Webhooks: stop sending). */
  Gone: 'gone',
  /** Every delivery failed for the whole failure window (5 days by default). */
  Failing: 'failing',
} as const;
export type WebhookDisabledReason = (typeof WebhookDisabledReason)[keyof typeof WebhookDisabledReason];

/**
 * Where an organisation wants its events delivered, per environment. The signing
 * secret (`whsec_…`) is kept sealed because every delivery must be signed with it;
 * after a rotation the previous one keeps signing beside it until it expires.
 */
@Entity({ tableName: 'webhook_endpoints' })
@Index({ properties: ['organization', 'id'] })
export class WebhookEndpoint {
  [OptionalProps]?:
    | 'description'
    | 'previousSecretSealed'
    | 'previousSecretExpiresAt'
    | 'rateLimitPerSecond'
    | 'disabledAt'
    | 'disabledReason'
    | 'failingSince'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.WebhookEndpoint);

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @Enum({ items: () => ['test', 'live'], type: 'string' })
  environment!: 'test' | 'live';

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  /** Event types to deliver, or ['*'] for all. */
  @Property({ type: 'array', columnType: 'text[]' })
  events!: string[];

  @Property({ type: 'text', hidden: true })
  secretSealed!: string;

  @Property({ type: 'text', nullable: true, hidden: true })
  previousSecretSealed: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  previousSecretExpiresAt: Date | null = null;

  /** At most this many deliveries per second to this endpoint; null = no limit. */
  @Property({ type: 'integer', nullable: true })
  rateLimitPerSecond: number | null = null;

  @Property({ type: 'datetime', nullable: true })
  disabledAt: Date | null = null;

  @Property({ type: 'string', nullable: true })
  disabledReason: WebhookDisabledReason | null = null;

  /** Start of the current run of failures; null once a delivery succeeds. */
  @Property({ type: 'datetime', nullable: true })
  failingSince: Date | null = null;

  @Property({ type: 'string' })
  createdBy!: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
