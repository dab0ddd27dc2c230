import { ApiProperty } from '@nestjs/swagger';

import { Role, ROLES } from '@latchkey/contracts';
import { ApiKeyEnvironment, ManagementKey } from '@latchkey/db';

export const ManagementKeyStatus = { Active: 'active', Expired: 'expired', Revoked: 'revoked' } as const;
export type ManagementKeyStatus = (typeof ManagementKeyStatus)[keyof typeof ManagementKeyStatus];

/** A management key as lists, reads and audit rows show it: never the token or its hash. */
export class ManagementKeyResponseDto {
  @ApiProperty({ example: 'mgk_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ enum: Object.values(ApiKeyEnvironment), nullable: true, description: 'null: both environments.' })
  environment!: ApiKeyEnvironment | null;

  @ApiProperty({ example: 'lk_mgmt_••••••••3f9a', description: 'The prefix and last four characters.' })
  masked_token!: string;

  @ApiProperty({ enum: Object.values(ManagementKeyStatus) })
  status!: ManagementKeyStatus;

  @ApiProperty({ type: [String], example: ['203.0.113.0/24'], description: 'Empty: any address.' })
  ip_allowlist!: string[];

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'The person who created it.' })
  created_by!: string;

  @ApiProperty()
  created_at!: string;

  @ApiProperty({ type: String, nullable: true, description: 'null: never expires.' })
  expires_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Accurate to a minute.' })
  last_used_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  revoked_at!: string | null;

  static from(key: ManagementKey, now = new Date()): ManagementKeyResponseDto {
    const status = key.revokedAt
      ? ManagementKeyStatus.Revoked
      : key.expiresAt && key.expiresAt <= now
        ? ManagementKeyStatus.Expired
        : ManagementKeyStatus.Active;
    return {
      id: key.id,
      name: key.name,
      role: key.role,
      environment: key.environment,
      masked_token: `lk_mgmt_••••••••${key.last4}`,
      status,
      ip_allowlist: [...key.ipAllowlist],
      created_by: key.createdBy,
      created_at: key.createdAt.toISOString(),
      expires_at: key.expiresAt?.toISOString() ?? null,
      last_used_at: key.lastUsedAt?.toISOString() ?? null,
      revoked_at: key.revokedAt?.toISOString() ?? null,
    };
  }
}

export class ManagementKeyWithTokenResponseDto extends ManagementKeyResponseDto {
  @ApiProperty({
    example: 'lk_mgmt_4eC39HqLyjWDarjtT1zdp7dc0a1b2C',
    description: 'Shown in this answer only: send it as Authorization: Bearer. Only its keyed hash is kept.',
  })
  token!: string;
}
