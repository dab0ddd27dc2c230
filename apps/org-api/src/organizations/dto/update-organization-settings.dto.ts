import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsInt, Max, Min, ValidateIf } from 'class-validator';

import { REQUEST_LOG_RETENTION_MAX_DAYS } from '@latchkey/db';

const MAX_DAYS = 3650;
const DAYS_MESSAGE = `must be an integer from 1 to ${MAX_DAYS}`;
const RETENTION_MESSAGE = `must be null or an integer from 1 to ${REQUEST_LOG_RETENTION_MAX_DAYS}`;

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

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: REQUEST_LOG_RETENTION_MAX_DAYS,
    example: 3,
    description:
      "Days request logs of test keys are kept, shorter or longer than the deployment's REQUEST_LOG_RETENTION_TEST_DAYS " +
      `(at most ${REQUEST_LOG_RETENTION_MAX_DAYS}); null goes back to that default. Older logs stop being listed at once ` +
      'and are deleted within the hour; a longer window keeps only logs not yet deleted.',
  })
  // null is a value here ("the deployment's default"), so only a number is checked; left out means unchanged.
  @ValidateIf(
    (dto: UpdateOrganizationSettingsDto) =>
      dto.request_log_retention_test_days !== null && dto.request_log_retention_test_days !== undefined,
  )
  @IsInt({ message: `request_log_retention_test_days ${RETENTION_MESSAGE}` })
  @Min(1, { message: `request_log_retention_test_days ${RETENTION_MESSAGE}` })
  @Max(REQUEST_LOG_RETENTION_MAX_DAYS, { message: `request_log_retention_test_days ${RETENTION_MESSAGE}` })
  request_log_retention_test_days?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: REQUEST_LOG_RETENTION_MAX_DAYS,
    example: 365,
    description:
      "Days request logs of live keys are kept, shorter or longer than the deployment's REQUEST_LOG_RETENTION_LIVE_DAYS " +
      `(at most ${REQUEST_LOG_RETENTION_MAX_DAYS}); null goes back to that default. Older logs stop being listed at once ` +
      'and are deleted within the hour; a longer window keeps only logs not yet deleted.',
  })
  @ValidateIf(
    (dto: UpdateOrganizationSettingsDto) =>
      dto.request_log_retention_live_days !== null && dto.request_log_retention_live_days !== undefined,
  )
  @IsInt({ message: `request_log_retention_live_days ${RETENTION_MESSAGE}` })
  @Min(1, { message: `request_log_retention_live_days ${RETENTION_MESSAGE}` })
  @Max(REQUEST_LOG_RETENTION_MAX_DAYS, { message: `request_log_retention_live_days ${RETENTION_MESSAGE}` })
  request_log_retention_live_days?: number | null;

  @ApiPropertyOptional({
    type: Boolean,
    example: false,
    description:
      'Whether expiry and rotation reminders (api_key.expiring, api_key.expired, api_key.rotation_due) are also mailed ' +
      "to the key's creator and the organisation's owners and admins (verified addresses only). false stops the mails; " +
      'the webhook events are sent either way.',
  })
  // Left out means unchanged; null is refused (the mails are either on or off). No coercion: "false" is not false.
  @ValidateIf((dto: UpdateOrganizationSettingsDto) => dto.reminder_emails_enabled !== undefined)
  @IsBoolean({ message: 'reminder_emails_enabled must be true or false' })
  reminder_emails_enabled?: boolean;
}
