import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

import { ApiKeyEnvironment } from '@latchkey/db';

import { UsageRangeQueryDto } from './usage-range-query.dto';

export const UsageGroupBy = { Key: 'key', Owner: 'owner', Code: 'code', Environment: 'environment' } as const;
export type UsageGroupBy = (typeof UsageGroupBy)[keyof typeof UsageGroupBy];
export const USAGE_GROUP_BYS: readonly UsageGroupBy[] = Object.values(UsageGroupBy);

const ENVIRONMENTS = Object.values(ApiKeyEnvironment);

export class OrgUsageQueryDto extends UsageRangeQueryDto {
  @ApiProperty({ enum: USAGE_GROUP_BYS, description: '`owner`: per customer (owner_id) across their keys.' })
  @IsIn(USAGE_GROUP_BYS, { message: `group_by must be one of: ${USAGE_GROUP_BYS.join(', ')}` })
  group_by!: UsageGroupBy;

  @ApiPropertyOptional({ enum: ENVIRONMENTS })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: `environment must be one of: ${ENVIRONMENTS.join(', ')}` })
  environment?: ApiKeyEnvironment;
}
