import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

import { USAGE_GRANULARITIES, UsageGranularity } from '@latchkey/db';

import { UsageRangeQueryDto } from './usage-range-query.dto';

export class KeyUsageQueryDto extends UsageRangeQueryDto {
  @ApiPropertyOptional({
    enum: USAGE_GRANULARITIES,
    default: UsageGranularity.Hour,
    description: 'Defaults: the last 60 minutes, 24 hours or 30 days. At most 1500 buckets.',
  })
  @IsOptional()
  @IsIn(USAGE_GRANULARITIES, { message: `granularity must be one of: ${USAGE_GRANULARITIES.join(', ')}` })
  granularity?: UsageGranularity;
}
