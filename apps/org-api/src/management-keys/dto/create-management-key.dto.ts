import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';

import { Role, ROLES } from '@latchkey/contracts';
import { ApiKeyEnvironment } from '@latchkey/db';
import { IsDisplayName, IsFutureDateTime, IsIpRangeList, Trimmed } from '@latchkey/platform';

const ENVIRONMENTS = Object.values(ApiKeyEnvironment);
/** An expiry left out is 90 days away: long enough for a CI secret, short enough that a forgotten one dies. */
export const DEFAULT_MANAGEMENT_KEY_TTL_DAYS = 90;
export const MAX_IP_ALLOWLIST_ENTRIES = 100;

export class CreateManagementKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'GitHub Actions deploy' })
  @Trimmed()
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @IsDisplayName()
  name!: string;

  @ApiProperty({ enum: ROLES, description: 'At most the creator’s own role (else 403 INSUFFICIENT_ROLE).' })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role!: Role;

  @ApiPropertyOptional({
    enum: ENVIRONMENTS,
    nullable: true,
    description: 'Narrows the key to the API keys of one environment; null or left out: both.',
  })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: `environment must be one of: ${ENVIRONMENTS.join(', ')}` })
  environment?: ApiKeyEnvironment | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: `When the key stops working. Left out: ${DEFAULT_MANAGEMENT_KEY_TTL_DAYS} days from now; null: never.`,
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'expires_at must be an ISO-8601 date-time' })
  @IsFutureDateTime()
  expires_at?: string | null;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_IP_ALLOWLIST_ENTRIES,
    example: ['203.0.113.0/24'],
    description: 'IPv4/IPv6 addresses or CIDRs the key may be used from (stored as CIDRs); empty or left out: any address.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_IP_ALLOWLIST_ENTRIES)
  @IsIpRangeList()
  ip_allowlist?: string[];
}
