import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { VERIFY_CODES, VerifyCode } from '@latchkey/contracts';

class RateLimitStateDto {
  @ApiProperty()
  limit!: number;

  @ApiProperty()
  remaining!: number;

  @ApiProperty({ format: 'date-time' })
  reset_at!: string;
}

class QuotaStateDto {
  @ApiProperty()
  remaining!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the current UTC day or month ends and the quota refills; null for a total quota, or while degraded',
  })
  reset_at!: string | null;
}

const PASS_ONLY = 'Only when valid is true: a refusal never names the key, its organisation or what it carries.';

/**
 * Documentation of KeyVerdict (the route builds it as a plain object; nothing validates it).
 * A pass has every field; a refusal has `valid: false` and `code` and, for RATE_LIMITED and
 * QUOTA_EXCEEDED, the `rate_limit` and `quota` it ran into (docs/api-conventions.md#checks).
 */
export class KeyVerdictResponseDto {
  @ApiProperty()
  valid!: boolean;

  @ApiProperty({ enum: VERIFY_CODES, description: 'Why the key passes (VALID) or is refused' })
  code!: VerifyCode;

  @ApiPropertyOptional({ type: String, description: PASS_ONLY })
  key_id?: string;

  @ApiPropertyOptional({ type: String, description: `The key's name. ${PASS_ONLY}` })
  name?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: `The id of the customer or service holding the key, as the organisation set it; null when none. ${PASS_ONLY}`,
  })
  owner_id?: string | null;

  @ApiPropertyOptional({ type: String, description: PASS_ONLY })
  org_id?: string;

  @ApiPropertyOptional({ enum: ['test', 'live'], description: PASS_ONLY })
  environment?: 'test' | 'live';

  @ApiPropertyOptional({ type: [String], description: PASS_ONLY })
  permissions?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: PASS_ONLY })
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    nullable: true,
    type: RateLimitStateDto,
    description:
      'On a pass, and on a RATE_LIMITED or QUOTA_EXCEEDED refusal; null when the key has no rate limit or Redis could not count it',
  })
  rate_limit?: RateLimitStateDto | null;

  @ApiPropertyOptional({
    nullable: true,
    type: QuotaStateDto,
    description: 'On a pass, and on a RATE_LIMITED or QUOTA_EXCEEDED refusal; null when the key has no quota or the check did not reach it',
  })
  quota?: QuotaStateDto | null;

  @ApiPropertyOptional({ description: 'Present (true) when Redis or the key lookup was unavailable and a fallback answered' })
  degraded?: boolean;
}
