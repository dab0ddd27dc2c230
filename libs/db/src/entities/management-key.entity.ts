import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { Role, ROLES } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';

import { ApiKeyEnvironment } from './api-key.entity';
import { Organization } from './organization.entity';

/**
 * A management key: an organisation's bearer token for scripts and CI, standing in
 * for a session with the key's role (docs/api-conventions.md#management-keys). Only
 * the token's HMAC-SHA-256 under KEY_HASH_SECRET is stored, as for API keys
 * (decision 0004), with its last four characters for display.
 */
@Entity({ tableName: 'management_keys' })
@Index({ properties: ['organization', 'id'] })
export class ManagementKey {
  [OptionalProps]?: 'environment' | 'ipAllowlist' | 'createdAt' | 'expiresAt' | 'lastUsedAt' | 'lastRefusedAt' | 'revokedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.ManagementKey);

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Enum({ items: () => [...ROLES], type: 'string' })
  role!: Role;

  /** When set, the key sees and issues API keys of this environment only. */
  @Enum({ items: () => Object.values(ApiKeyEnvironment), type: 'string', nullable: true })
  environment: ApiKeyEnvironment | null = null;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  tokenHash!: string;

  @Property({ type: 'string', length: 4 })
  last4!: string;

  /** CIDRs the key may be used from; empty = any address. */
  @Property({ type: 'array', columnType: 'text[]' })
  ipAllowlist: string[] = [];

  /** The person who created it. */
  @Property({ type: 'string' })
  createdBy!: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  /** null = never expires (asked for explicitly). */
  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  /** Written at most once a minute per key, so use costs no write per request. */
  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  /** The last refusal from an address outside the allowlist, which gates its audit entry to one a minute. */
  @Property({ type: 'datetime', nullable: true, hidden: true })
  lastRefusedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;
}
