import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

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
  /** Days request logs of test keys are kept; null = the deployment's REQUEST_LOG_RETENTION_TEST_DAYS. */
  request_log_retention_test_days: number | null;
  /** Days request logs of live keys are kept; null = the deployment's REQUEST_LOG_RETENTION_LIVE_DAYS. */
  request_log_retention_live_days: number | null;
  /**
   * Whether expiry and rotation reminders are also mailed to the key's creator and the
   * org's owners and admins; off, they still go out as webhook events.
   */
  reminder_emails_enabled: boolean;
}

export const DEFAULT_ORGANIZATION_SETTINGS: OrganizationSettings = {
  rotation_policy_days: 90,
  default_expiry_days: null,
  allowed_expiry_presets: [30, 60, 90],
  request_log_retention_test_days: null,
  request_log_retention_live_days: null,
  reminder_emails_enabled: true,
};

/**
 * The longest request-log retention an organisation may choose. Every day partition
 * is kept until the longest window in use has passed it, so this bounds what one
 * tenant can make the whole deployment store (a bit more than a year of history).
 */
export const REQUEST_LOG_RETENTION_MAX_DAYS = 400;

/** The organisation setting that overrides the retention of one environment's request logs. */
export const REQUEST_LOG_RETENTION_SETTING = {
  test: 'request_log_retention_test_days',
  live: 'request_log_retention_live_days',
} as const satisfies Record<'test' | 'live', keyof OrganizationSettings>;

/**
 * Days an organisation's request logs of one environment are kept: its own setting
 * when it has one, else the deployment's default. Settings stored before the setting
 * existed lack the field, which means the default too.
 */
export function requestLogRetentionDays(
  settings: Partial<OrganizationSettings> | null | undefined,
  environment: 'test' | 'live',
  defaultDays: number,
): number {
  const own = settings?.[REQUEST_LOG_RETENTION_SETTING[environment]];
  // The same reading as the worker's SQL (request-log-retention.ts): capped, so reads never show more than it keeps.
  return typeof own === 'number' && Number.isInteger(own) && own > 0 ? Math.min(own, REQUEST_LOG_RETENTION_MAX_DAYS) : defaultDays;
}

/**
 * Whether an organisation's reminders are mailed. Only an explicit `false` turns them
 * off: settings stored before the setting existed lack it, which means the default (on).
 */
export function reminderEmailsEnabled(settings: Partial<OrganizationSettings> | null | undefined): boolean {
  return settings?.reminder_emails_enabled !== false;
}

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
