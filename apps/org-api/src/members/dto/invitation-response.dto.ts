import { ApiProperty } from '@nestjs/swagger';

import { Invitation, Role, ROLES } from '@latchkey/db';

export const InvitationStatus = {
  Invited: 'invited',
  Revoked: 'revoked',
} as const;
export type InvitationStatus = (typeof InvitationStatus)[keyof typeof InvitationStatus];

export class InvitationResponseDto {
  @ApiProperty({ example: 'inv_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'grace@example.com' })
  email!: string;

  @ApiProperty({ enum: ROLES, description: 'The role the membership will have.' })
  role!: Role;

  @ApiProperty({
    enum: Object.values(InvitationStatus),
    description: '`invited` while pending; `revoked` in the answer to a revocation. An accepted invitation becomes a member.',
  })
  status!: InvitationStatus;

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'The user who invited.' })
  invited_by!: string;

  @ApiProperty()
  created_at!: string;

  static from(this: void, invitation: Invitation, status: InvitationStatus = InvitationStatus.Invited): InvitationResponseDto {
    return {
      id: invitation.id,
      email: invitation.email,
      role: invitation.role,
      status,
      invited_by: invitation.invitedBy,
      created_at: invitation.createdAt.toISOString(),
    };
  }
}
