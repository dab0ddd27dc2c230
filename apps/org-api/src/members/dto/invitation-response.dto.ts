import { ApiProperty } from '@nestjs/swagger';

import { Role, ROLES } from '@latchkey/contracts';
import { Invitation, InvitationState } from '@latchkey/db';

export const InvitationStatus = {
  Invited: 'invited',
  Accepted: 'accepted',
  Declined: 'declined',
  Revoked: 'revoked',
  Expired: 'expired',
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
    description: '`invited` while pending and unexpired; then `accepted`, `declined`, `revoked` or `expired`.',
  })
  status!: InvitationStatus;

  @ApiProperty({ description: 'After this the invitation can no longer be accepted.' })
  expires_at!: string;

  @ApiProperty({ example: 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  org_id!: string;

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'Who invited: the user, or the management key (`mgk_…`).' })
  invited_by!: string;

  @ApiProperty()
  created_at!: string;

  /** The same shape whatever the invited address is: it never says whether the address has an account. */
  static from(this: void, invitation: Invitation, now = new Date()): InvitationResponseDto {
    return {
      id: invitation.id,
      org_id: invitation.organization.id,
      email: invitation.email,
      role: invitation.role,
      status: statusOf(invitation, now),
      expires_at: invitation.expiresAt.toISOString(),
      invited_by: invitation.invitedBy,
      created_at: invitation.createdAt.toISOString(),
    };
  }
}

function statusOf(invitation: Invitation, now: Date): InvitationStatus {
  switch (invitation.status) {
    case InvitationState.Pending:
      return invitation.expiresAt.getTime() <= now.getTime() ? InvitationStatus.Expired : InvitationStatus.Invited;
    case InvitationState.Accepted:
      return InvitationStatus.Accepted;
    case InvitationState.Declined:
      return InvitationStatus.Declined;
    case InvitationState.Revoked:
      return InvitationStatus.Revoked;
  }
}
