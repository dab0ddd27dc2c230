import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

/** `?from=&to=`: ISO-8601 times, the range [from, to). */
export class UsageRangeQueryDto {
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'Inclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-02T00:00:00Z', description: 'Exclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;
}
