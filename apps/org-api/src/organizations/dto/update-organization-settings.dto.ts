import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, Max, Min, ValidateIf } from 'class-validator';

const MAX_DAYS = 3650;
const DAYS_MESSAGE = `must be an integer from 1 to ${MAX_DAYS}`;

/** A partial update: fields left out keep their value. */
export class UpdateOrganizationSettingsDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_DAYS,
    example: 90,
    description: 'Keys older than this are reported as due for rotation.',
  })
  // Left out means unchanged; null is refused (a policy is always set).
  @ValidateIf((dto: UpdateOrganizationSettingsDto) => dto.rotation_policy_days !== undefined)
  @IsInt({ message: `rotation_policy_days ${DAYS_MESSAGE}` })
  @Min(1, { message: `rotation_policy_days ${DAYS_MESSAGE}` })
  @Max(MAX_DAYS, { message: `rotation_policy_days ${DAYS_MESSAGE}` })
  rotation_policy_days?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_DAYS,
    example: null,
    description: 'Expiry applied to keys created without one; null means they never expire.',
  })
  // null is a value here ("never expires"), so only a number is checked; left out means unchanged.
  @ValidateIf((dto: UpdateOrganizationSettingsDto) => dto.default_expiry_days !== null && dto.default_expiry_days !== undefined)
  @IsInt({ message: `default_expiry_days must be null or an integer from 1 to ${MAX_DAYS}` })
  @Min(1, { message: `default_expiry_days must be null or an integer from 1 to ${MAX_DAYS}` })
  @Max(MAX_DAYS, { message: `default_expiry_days must be null or an integer from 1 to ${MAX_DAYS}` })
  default_expiry_days?: number | null;

  @ApiPropertyOptional({
    type: [Number],
    minItems: 1,
    maxItems: 10,
    uniqueItems: true,
    example: [30, 60, 90],
    description: 'The expires_in_days values keys may be created with.',
  })
  @ValidateIf((dto: UpdateOrganizationSettingsDto) => dto.allowed_expiry_presets !== undefined)
  @IsArray({ message: 'allowed_expiry_presets must be an array of 1 to 10 distinct integers' })
  @ArrayMinSize(1, { message: 'allowed_expiry_presets must hold 1 to 10 values' })
  @ArrayMaxSize(10, { message: 'allowed_expiry_presets must hold 1 to 10 values' })
  @ArrayUnique(undefined, { message: 'allowed_expiry_presets must not repeat a value' })
  @IsInt({ each: true, message: `each of allowed_expiry_presets ${DAYS_MESSAGE}` })
  @Min(1, { each: true, message: `each of allowed_expiry_presets ${DAYS_MESSAGE}` })
  @Max(MAX_DAYS, { each: true, message: `each of allowed_expiry_presets ${DAYS_MESSAGE}` })
  allowed_expiry_presets?: number[];
}
