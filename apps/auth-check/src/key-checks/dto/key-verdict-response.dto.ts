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
}

/** Documentation of KeyVerdict (the route builds it as a plain object; nothing validates it). */
export class KeyVerdictResponseDto {
  @ApiProperty()
  valid!: boolean;

  @ApiProperty({ enum: VERIFY_CODES })
  code!: VerifyCode;

  @ApiProperty({ nullable: true, type: String, description: 'null when the key is malformed or unknown' })
  key_id!: string | null;

  @ApiProperty({ nullable: true, type: String })
  org_id!: string | null;

  @ApiProperty({ nullable: true, enum: ['test', 'live'] })
  environment!: 'test' | 'live' | null;

  @ApiProperty({ type: [String] })
  permissions!: string[];

  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: RateLimitStateDto, description: 'When the key has a rate limit and the check reached it' })
  rate_limit!: RateLimitStateDto | null;

  @ApiProperty({ nullable: true, type: QuotaStateDto, description: 'When the key has a quota and the check reached it' })
  quota!: QuotaStateDto | null;

  @ApiPropertyOptional({ description: 'Present (true) when Redis or the key lookup was unavailable and a fallback answered' })
  degraded?: boolean;
}
