import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

/**
 * What an anomaly alert is about (docs/api-conventions.md#usage-logs-and-alerts). DO NOT RENAME a
 * shipped value: it is stored and filtered on.
 */
export const AlertType = {
  /** A key's checks in one minute far above its own moving baseline. */
  TrafficSpike: 'traffic_spike',
  /** Many malformed or unknown keys presented from one IP. */
  FailedCheckBurst: 'failed_check_burst',
  /** Many refused checks (any code but VALID) on one key. */
  DenialBurst: 'denial_burst',
  /** A key with a history used from a /24 (IPv4) or /48 (IPv6) it never used before. */
  NewNetwork: 'new_network',
  /** A test key driven at production-like volume. */
  TestKeyVolume: 'test_key_volume',
} as const;
export type AlertType = (typeof AlertType)[keyof typeof AlertType];
export const ALERT_TYPES: readonly AlertType[] = Object.values(AlertType);

export const AlertSeverity = { Info: 'info', Warning: 'warning', Critical: 'critical' } as const;
export type AlertSeverity = (typeof AlertSeverity)[keyof typeof AlertSeverity];
export const ALERT_SEVERITIES: readonly AlertSeverity[] = Object.values(AlertSeverity);

/**
 * One anomaly, stored once per episode: `episode_key` names the rule's subject and
 * time window (for example the key and the hour), and (org, type, episode) is
 * unique, so a spike that lasts an hour is one alert, not sixty.
 */
@Entity({ tableName: 'alerts' })
@Index({ properties: ['orgId', 'id'] })
@Unique({ properties: ['orgId', 'type', 'episodeKey'] })
export class Alert {
  [OptionalProps]?: 'keyId' | 'environment' | 'details' | 'createdAt' | 'acknowledgedAt' | 'acknowledgedBy';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Alert);

  @Property({ type: 'string' })
  orgId!: string;

  /** No foreign key: an alert outlives the key it is about. */
  @Property({ type: 'string', nullable: true })
  keyId: string | null = null;

  @Property({ type: 'string', nullable: true })
  environment: 'test' | 'live' | null = null;

  @Property({ type: 'string' })
  type!: AlertType;

  @Property({ type: 'string' })
  severity!: AlertSeverity;

  @Property({ type: 'string' })
  episodeKey!: string;

  /** What the rule saw (counts, thresholds, ip or network): never a secret. */
  @Property({ type: 'json' })
  details: Record<string, unknown> = {};

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  acknowledgedAt: Date | null = null;

  /** The user who acknowledged it. */
  @Property({ type: 'string', nullable: true })
  acknowledgedBy: string | null = null;
}

/**
 * The public shape of an alert: the REST answer and the `alert.triggered` event's
 * `data` alike, so a webhook subscriber and an API caller see the same object.
 */
export interface AlertView {
  id: string;
  org_id: string;
  key_id: string | null;
  environment: 'test' | 'live' | null;
  type: AlertType;
  severity: AlertSeverity;
  details: Record<string, unknown>;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

export function alertView(alert: Alert): AlertView {
  return {
    id: alert.id,
    org_id: alert.orgId,
    key_id: alert.keyId,
    environment: alert.environment,
    type: alert.type,
    severity: alert.severity,
    details: alert.details,
    created_at: alert.createdAt.toISOString(),
    acknowledged_at: alert.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: alert.acknowledgedBy,
  };
}
