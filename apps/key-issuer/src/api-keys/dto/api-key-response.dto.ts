import { ApiProperty } from '@nestjs/swagger';

import { maskApiKey } from '@latchkey/crypto';
import { ApiKey, ApiKeyEnvironment, apiKeyStatus, ApiKeyStatus, QuotaPeriod } from '@latchkey/db';

import { QuotaDto, RateLimitDto } from './api-key-limits.dto';
import { ApiKeyRestrictionsDto } from './api-key-restrictions.dto';

/** A key as every answer, audit row and event shows it: never a secret, hash or sealed value. */
export class ApiKeyResponseDto {
  @ApiProperty({ example: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'Checkout backend' })
  name!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ enum: Object.values(ApiKeyEnvironment) })
  environment!: ApiKeyEnvironment;

  @ApiProperty({ example: 'sk_live_' })
  prefix!: string;

  @ApiProperty({ example: 'sk_live_••••••••3f9a' })
  masked!: string;

  @ApiProperty()
  created_at!: string;

  @ApiProperty({
    description:
      'When the current secret was issued: created_at, then the time of each roll. The rotation policy (api_key.rotation_due) counts from here.',
  })
  secret_rotated_at!: string;

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'The user who created the key.' })
  created_by!: string;

  @ApiProperty({ type: String, nullable: true })
  owner_id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'null: never expires.' })
  expires_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  last_used_at!: string | null;

  @ApiProperty({ enum: Object.values(ApiKeyStatus) })
  status!: ApiKeyStatus;

  @ApiProperty({ type: String, nullable: true })
  revoked_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  disabled_at!: string | null;

  @ApiProperty({ type: [String] })
  permissions!: string[];

  @ApiProperty({ type: ApiKeyRestrictionsDto })
  restrictions!: { ip_allowlist: string[]; referrers: string[]; endpoints: { method: string; path: string }[] };

  @ApiProperty({ type: RateLimitDto, nullable: true })
  rate_limit!: { limit: number; window_seconds: number } | null;

  @ApiProperty({ type: QuotaDto, nullable: true })
  quota!: { limit: number; period: QuotaPeriod } | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty()
  signing!: boolean;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'pk_{env}_… of a signing key.' })
  public_key!: string | null;

  @ApiProperty()
  updated_at!: string;

  static from(this: void, key: ApiKey, now = new Date()): ApiKeyResponseDto {
    return {
      id: key.id,
      name: key.name,
      description: key.description,
      environment: key.environment,
      prefix: key.prefix,
      masked: maskApiKey(key.prefix, key.last4),
      created_at: key.createdAt.toISOString(),
      secret_rotated_at: key.secretRotatedAt.toISOString(),
      created_by: key.createdBy,
      owner_id: key.ownerId,
      expires_at: key.expiresAt?.toISOString() ?? null,
      last_used_at: key.lastUsedAt?.toISOString() ?? null,
      status: apiKeyStatus(key, now),
      revoked_at: key.revokedAt?.toISOString() ?? null,
      disabled_at: key.disabledAt?.toISOString() ?? null,
      permissions: [...key.permissions],
      restrictions: {
        ip_allowlist: [...key.restrictions.ip_allowlist],
        referrers: [...key.restrictions.referrers],
        endpoints: key.restrictions.endpoints.map((endpoint) => ({ ...endpoint })),
      },
      rate_limit: key.rateLimit ? { limit: key.rateLimit.limit, window_seconds: key.rateLimit.window_seconds } : null,
      quota: key.quota ? { limit: key.quota.limit, period: key.quota.period } : null,
      metadata: key.metadata,
      signing: key.signing,
      public_key: key.publicKey,
      updated_at: key.updatedAt.toISOString(),
    };
  }
}

/** The answer to a create or a roll: the only time the secret is shown. */
export class ApiKeyWithSecretResponseDto extends ApiKeyResponseDto {
  @ApiProperty({
    example: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc2x8Q7nBd0a1b2c',
    description: 'Shown once; store it now. Latchkey keeps only a keyed hash (and, for a signing key, an encrypted copy).',
  })
  secret!: string;
}
