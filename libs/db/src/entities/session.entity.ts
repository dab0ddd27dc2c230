import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

/** An admin session. The bearer token itself is never stored: only its SHA-256. */
@Entity({ tableName: 'sessions' })
export class Session {
  [OptionalProps]?: 'ip' | 'userAgent' | 'createdAt' | 'revokedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Session);

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  tokenHash!: string;

  @Index()
  @Property({ type: 'string' })
  userId!: string;

  /** The organisation this session acts in; changed by switch-org. */
  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'string', nullable: true })
  ip: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;
}
