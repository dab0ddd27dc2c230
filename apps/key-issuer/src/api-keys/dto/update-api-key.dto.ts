import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { IsDisplayName, IsFutureDateTime, Trimmed } from '@latchkey/platform';

import { QuotaDto, RateLimitDto } from './api-key-limits.dto';
import { ApiKeyRestrictionsDto } from './api-key-restrictions.dto';
import { IsSmallJsonObject, METADATA_MAX_BYTES, PERMISSION_PATTERN } from './api-key-validators';

/**
 * Fields left out keep their value. Nullable fields are cleared with null; the
 * others (name, permissions, restrictions, metadata) refuse null. Environment and
 * signing are fixed at creation: roll or issue a new key instead.
 */
export class UpdateApiKeyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @ValidateIf((dto: UpdateApiKeyDto) => dto.name !== undefined)
  @Trimmed()
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @IsDisplayName()
  name?: string;

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @IsOptional()
  @Trimmed()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'A future date, or null for never.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'expires_at must be an ISO-8601 date-time' })
  @IsFutureDateTime()
  expires_at?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: 100, description: 'Replaces the list.' })
  @ValidateIf((dto: UpdateApiKeyDto) => dto.permissions !== undefined)
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique({ message: 'permissions must not repeat a permission' })
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(PERMISSION_PATTERN, { each: true, message: 'permissions must look like payments:read' })
  permissions?: string[];

  @ApiPropertyOptional({ type: ApiKeyRestrictionsDto, description: 'Each list given replaces that list; lists left out keep their value.' })
  @ValidateIf((dto: UpdateApiKeyDto) => dto.restrictions !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => ApiKeyRestrictionsDto)
  restrictions?: ApiKeyRestrictionsDto;

  @ApiPropertyOptional({ type: RateLimitDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional({ type: QuotaDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotaDto)
  quota?: QuotaDto | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Replaces the metadata; at most ${METADATA_MAX_BYTES} bytes.`,
  })
  @ValidateIf((dto: UpdateApiKeyDto) => dto.metadata !== undefined)
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: String, maxLength: 200, nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'owner_id must be 1 to 200 characters' })
  owner_id?: string | null;
}
