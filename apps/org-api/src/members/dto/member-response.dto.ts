import { ApiProperty } from '@nestjs/swagger';

import { Role, ROLES } from '@latchkey/contracts';
import { Membership } from '@latchkey/db';

export class MemberResponseDto {
  @ApiProperty({ example: 'mem_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  user_id!: string;

  @ApiProperty({ example: 'grace@example.com' })
  email!: string;

  @ApiProperty({ example: 'Grace Hopper' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty()
  created_at!: string;

  @ApiProperty()
  updated_at!: string;

  /** The membership's user must be loaded. */
  static from(this: void, membership: Membership): MemberResponseDto {
    return {
      id: membership.id,
      user_id: membership.user.id,
      email: membership.user.email,
      name: membership.user.name,
      role: membership.role,
      created_at: membership.createdAt.toISOString(),
      updated_at: membership.updatedAt.toISOString(),
    };
  }
}
