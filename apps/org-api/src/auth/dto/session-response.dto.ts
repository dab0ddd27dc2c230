import { ApiProperty } from '@nestjs/swagger';

import { Role, ROLES } from '@latchkey/contracts';
import { Organization, User } from '@latchkey/db';

import { OrganizationResponseDto } from '../../organizations/dto/organization-response.dto';

export class UserResponseDto {
  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: String, nullable: true, description: 'When the address was verified; null until then.' })
  email_verified_at!: string | null;

  @ApiProperty()
  created_at!: string;

  static from(user: User): UserResponseDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      email_verified_at: user.emailVerifiedAt?.toISOString() ?? null,
      created_at: user.createdAt.toISOString(),
    };
  }
}

export class SessionResponseDto {
  @ApiProperty({ type: UserResponseDto })
  user!: UserResponseDto;

  @ApiProperty({ type: OrganizationResponseDto })
  org!: OrganizationResponseDto;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ description: 'Shown once. Send as Authorization: Bearer <token>.', required: false })
  token?: string;

  @ApiProperty()
  expires_at!: string;

  static from(user: User, org: Organization, role: Role, expiresAt: Date, token?: string): SessionResponseDto {
    return {
      user: UserResponseDto.from(user),
      org: OrganizationResponseDto.from(org),
      role,
      ...(token ? { token } : {}),
      expires_at: expiresAt.toISOString(),
    };
  }
}
