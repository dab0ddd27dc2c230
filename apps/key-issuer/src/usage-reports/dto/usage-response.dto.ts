import { ApiProperty } from '@nestjs/swagger';

import { USAGE_GRANULARITIES, UsageGranularity } from '@latchkey/db';

import { USAGE_GROUP_BYS, UsageGroupBy } from './org-usage-query.dto';

const CODES_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  example: { VALID: 120, RATE_LIMITED: 3 },
  description: 'Checks per outcome code; codes with no checks are left out.',
} as const;

export class UsageBucketDto {
  @ApiProperty({ example: '2026-11-23T15:00:00.000Z' })
  start!: string;

  @ApiProperty({ example: 123 })
  total!: number;

  @ApiProperty(CODES_SCHEMA)
  codes!: Record<string, number>;
}

/** A key's checks per bucket over [from, to), every bucket present (zero-filled). */
export class KeyUsageResponseDto {
  @ApiProperty({ example: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  key_id!: string;

  @ApiProperty({ enum: USAGE_GRANULARITIES })
  granularity!: UsageGranularity;

  @ApiProperty({ description: 'from, rounded down to the bucket.' })
  from!: string;

  @ApiProperty({ description: 'to, rounded up to the bucket.' })
  to!: string;

  @ApiProperty({ type: [UsageBucketDto] })
  buckets!: UsageBucketDto[];
}

export class UsageGroupDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The key id, owner_id (null: keys without one), code or environment.',
  })
  value!: string | null;

  @ApiProperty({ example: 123 })
  total!: number;

  @ApiProperty(CODES_SCHEMA)
  codes!: Record<string, number>;
}

/** The organisation's checks over [from, to), grouped; the largest group first. */
export class OrgUsageResponseDto {
  @ApiProperty({ enum: USAGE_GROUP_BYS })
  group_by!: UsageGroupBy;

  @ApiProperty({ description: 'from, rounded down to the minute.' })
  from!: string;

  @ApiProperty({ description: 'to, rounded down to the minute.' })
  to!: string;

  @ApiProperty({ example: 123 })
  total!: number;

  @ApiProperty({ type: [UsageGroupDto] })
  groups!: UsageGroupDto[];
}
