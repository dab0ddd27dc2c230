import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

export const ActorType = {
  User: 'user',
  ApiKey: 'api_key',
  ManagementKey: 'management_key',
  Platform: 'platform',
  System: 'system',
} as const;
export type ActorType = (typeof ActorType)[keyof typeof ActorType];

/**
 * One change made by a person, a key, the platform operator or the system.
 * Append-only: a trigger in the database refuses UPDATE, DELETE and TRUNCATE.
 */
@Entity({ tableName: 'audit_logs' })
@Index({ properties: ['orgId', 'id'] })
export class AuditLog {
  [OptionalProps]?: 'actorId' | 'targetType' | 'targetId' | 'ip' | 'userAgent' | 'before' | 'after' | 'createdAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Audit);

  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'string' })
  actorType!: ActorType;

  @Property({ type: 'string', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'string' })
  action!: string;

  @Property({ type: 'string', nullable: true })
  targetType: string | null = null;

  @Property({ type: 'string', nullable: true })
  targetId: string | null = null;

  @Property({ type: 'string', nullable: true })
  ip: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'json', nullable: true })
  before: Record<string, unknown> | null = null;

  @Property({ type: 'json', nullable: true })
  after: Record<string, unknown> | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
