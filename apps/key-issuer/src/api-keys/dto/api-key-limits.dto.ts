import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';

import { QuotaPeriod } from '@latchkey/db';

const QUOTA_PERIODS = Object.values(QuotaPeriod);

export class RateLimitDto {
  @ApiProperty({ minimum: 1, maximum: 1_000_000, example: 100 })
  @IsInt({ message: 'limit must be an integer from 1 to 1000000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000000' })
  @Max(1_000_000, { message: 'limit must be an integer from 1 to 1000000' })
  limit!: number;

  @ApiProperty({ minimum: 1, maximum: 86_400, example: 60 })
  @IsInt({ message: 'window_seconds must be an integer from 1 to 86400' })
  @Min(1, { message: 'window_seconds must be an integer from 1 to 86400' })
  @Max(86_400, { message: 'window_seconds must be an integer from 1 to 86400' })
  window_seconds!: number;
}

export class QuotaDto {
  @ApiProperty({ minimum: 1, maximum: 1_000_000_000, example: 10_000 })
  @IsInt({ message: 'limit must be an integer from 1 to 1000000000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000000000' })
  @Max(1_000_000_000, { message: 'limit must be an integer from 1 to 1000000000' })
  limit!: number;

  @ApiProperty({ enum: QUOTA_PERIODS, description: '`total` never resets.' })
  @IsIn(QUOTA_PERIODS, { message: `period must be one of: ${QUOTA_PERIODS.join(', ')}` })
  period!: QuotaPeriod;
}
