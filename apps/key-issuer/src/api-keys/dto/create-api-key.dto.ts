import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import { ApiKeyEnvironment } from '@latchkey/db';
import { IsDisplayName, IsFutureDateTime, Trimmed } from '@latchkey/platform';

import { QuotaDto, RateLimitDto } from './api-key-limits.dto';
import { ApiKeyRestrictionsDto } from './api-key-restrictions.dto';
import { IsSmallJsonObject, METADATA_MAX_BYTES, PERMISSION_PATTERN } from './api-key-validators';

const ENVIRONMENTS = Object.values(ApiKeyEnvironment);

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Checkout backend' })
  @Trimmed()
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @IsDisplayName()
  name!: string;

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @IsOptional()
  @Trimmed()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiProperty({
    enum: ENVIRONMENTS,
    description: '`live` only once the organisation’s live access is approved (else 403 LIVE_MODE_NOT_ENABLED).',
  })
  @IsIn(ENVIRONMENTS, { message: `environment must be one of: ${ENVIRONMENTS.join(', ')}` })
  environment!: ApiKeyEnvironment;

  @ApiPropertyOptional({
    example: 90,
    description: 'Expire after this many days; one of the organisation’s allowed_expiry_presets. Not with expires_at.',
  })
  @IsOptional()
  @IsInt({ message: 'expires_in_days must be an integer' })
  @Min(1, { message: 'expires_in_days must be one of the organisation’s allowed presets' })
  @Max(36_500, { message: 'expires_in_days must be one of the organisation’s allowed presets' })
  expires_in_days?: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'A custom expiry in the future. Neither this nor expires_in_days: the organisation’s default_expiry_days (null = never).',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'expires_at must be an ISO-8601 date-time' })
  @IsFutureDateTime()
  expires_at?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: 100, example: ['payments:read', 'payments:write'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique({ message: 'permissions must not repeat a permission' })
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(PERMISSION_PATTERN, { each: true, message: 'permissions must look like payments:read' })
  permissions?: string[];

  @ApiPropertyOptional({ type: ApiKeyRestrictionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ApiKeyRestrictionsDto)
  restrictions?: ApiKeyRestrictionsDto;

  @ApiPropertyOptional({ type: RateLimitDto, nullable: true, description: 'null: no rate limit.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional({ type: QuotaDto, nullable: true, description: 'null: no quota.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotaDto)
  quota?: QuotaDto | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `Free JSON, at most ${METADATA_MAX_BYTES} bytes.` })
  @IsOptional()
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: String,
    maxLength: 200,
    nullable: true,
    description: 'Your own id for the customer or service holding the key.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'owner_id must be 1 to 200 characters' })
  owner_id?: string | null;

  @ApiPropertyOptional({ default: false, description: 'A signing key also gets a public key (pk_…); requests are signed with the secret.' })
  @IsOptional()
  @IsBoolean()
  signing?: boolean;
}
