import { Entity, Index, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';

/** The bucket sizes usage is counted in. DO NOT CHANGE the values: they are stored. */
export const UsageGranularity = { Minute: 'minute', Hour: 'hour', Day: 'day' } as const;
export type UsageGranularity = (typeof UsageGranularity)[keyof typeof UsageGranularity];

export const USAGE_GRANULARITIES: readonly UsageGranularity[] = Object.values(UsageGranularity);

/** A UTC day (UTC has no DST): the unit of every day-based window and partition. */
export const DAY_MS = 86_400_000;

/** Buckets are fixed UTC spans, so a bucket is `floor(epoch / size)`. */
export const USAGE_BUCKET_MS: Record<UsageGranularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
};

/**
 * How long counters of each granularity are kept (days; null = forever). Minute
 * counters are by far the most numerous (one row per key, minute and code) and only
 * serve recent charts; hour counters cover the quarter; day counters are the history
 * (and what quotas and org reports are read from). The usage worker prunes older rows.
 */
export const USAGE_COUNTER_RETENTION_DAYS: Record<UsageGranularity, number | null> = {
  minute: 7,
  hour: 90,
  day: null,
};

/** Start of the bucket of `at` (UTC). */
export function usageBucketStart(at: Date, granularity: UsageGranularity): Date {
  const size = USAGE_BUCKET_MS[granularity];
  return new Date(Math.floor(at.getTime() / size) * size);
}

/**
 * How many checks of one key ended with one code in one bucket
 * (docs/api-conventions.md#usage-logs-and-alerts). Written only by the usage worker,
 * with one aggregated upsert per batch; org_id, environment and owner_id (the key's,
 * when first counted) are copied in for the org-wide group-by reports.
 */
@Entity({ tableName: 'usage_counters' })
@Index({ properties: ['orgId', 'granularity', 'bucketStart'] })
export class UsageCounter {
  [PrimaryKeyProp]?: ['keyId', 'granularity', 'bucketStart', 'code'];

  @PrimaryKey({ type: 'string' })
  keyId!: string;

  @PrimaryKey({ type: 'string' })
  granularity!: UsageGranularity;

  @PrimaryKey({ type: 'datetime' })
  bucketStart!: Date;

  /** A VerifyCode. */
  @PrimaryKey({ type: 'string' })
  code!: string;

  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'string' })
  environment!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  ownerId: string | null = null;

  @Property({ type: 'bigint' })
  count!: number;
}
