import { Entity, OptionalProps, Enum, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '../ids';

export const LiveAccessStatus = {
  NotRequested: 'not_requested',
  Requested: 'requested',
  Approved: 'approved',
} as const;
export type LiveAccessStatus = (typeof LiveAccessStatus)[keyof typeof LiveAccessStatus];

export interface OrganizationSettings {
  /** Keys older than this are reported as due for rotation (seed 001: every 90 days). */
  rotation_policy_days: number;
  /** Expiry applied when a key is created without one; null = never expires. */
  default_expiry_days: number | null;
  /** The `expires_in_days` values a key may be created with (seed 004: 30, 60, 90). */
  allowed_expiry_presets: number[];
}

export const DEFAULT_ORGANIZATION_SETTINGS: OrganizationSettings = {
  rotation_policy_days: 90,
  default_expiry_days: null,
  allowed_expiry_presets: [30, 60, 90],
};

@Entity({ tableName: 'organizations' })
export class Organization {
  [OptionalProps]?: 'liveAccess' | 'liveAccessRequestedAt' | 'liveAccessApprovedAt' | 'settings' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Organization);

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Enum({ items: () => Object.values(LiveAccessStatus), type: 'string' })
  liveAccess: LiveAccessStatus = LiveAccessStatus.NotRequested;

  @Property({ type: 'datetime', nullable: true })
  liveAccessRequestedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  liveAccessApprovedAt: Date | null = null;

  @Property({ type: 'json' })
  settings: OrganizationSettings = { ...DEFAULT_ORGANIZATION_SETTINGS };

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
