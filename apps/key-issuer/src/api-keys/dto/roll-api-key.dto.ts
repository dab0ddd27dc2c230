import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const ROLL_GRACE_DEFAULT_SECONDS = 86_400;
export const ROLL_GRACE_MAX_SECONDS = 604_800;

export class RollApiKeyDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: ROLL_GRACE_MAX_SECONDS,
    default: ROLL_GRACE_DEFAULT_SECONDS,
    description: 'How long the old secret keeps working; 0 stops it at once.',
  })
  @IsOptional()
  @IsInt({ message: 'expire_old_in_seconds must be an integer from 0 to 604800' })
  @Min(0, { message: 'expire_old_in_seconds must be an integer from 0 to 604800' })
  @Max(ROLL_GRACE_MAX_SECONDS, { message: 'expire_old_in_seconds must be an integer from 0 to 604800' })
  expire_old_in_seconds?: number;
}
