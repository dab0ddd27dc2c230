import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A usage event Postgres refuses, set aside by the usage worker so the rest of its
 * batch could be counted (migration 20261202190000). Read by the platform operator.
 */
@Entity({ tableName: 'usage_quarantined_events' })
export class QuarantinedUsageEvent {
  /** `qev_` + a ULID of when it was set aside: newest first by id. */
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string' })
  batchId!: string;

  @Property({ type: 'string' })
  reason!: string;

  /** The event as JSON text; a NUL or a lone surrogate in it stays a `\u` escape. */
  @Property({ type: 'text' })
  event!: string;

  @Property({ type: 'datetime' })
  quarantinedAt!: Date;
}
