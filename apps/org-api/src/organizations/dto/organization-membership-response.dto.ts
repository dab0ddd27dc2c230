import { ApiProperty } from '@nestjs/swagger';

import { Role, ROLES } from '@latchkey/contracts';

import { OrganizationMembership } from '../organizations.service';
import { OrganizationResponseDto } from './organization-response.dto';

/** An organisation the caller belongs to, with the caller's role in it. */
export class OrganizationMembershipResponseDto extends OrganizationResponseDto {
  @ApiProperty({ enum: ROLES, description: "The caller's role in this organisation." })
  role!: Role;

  @ApiProperty({ description: 'True for the organisation the current session acts in.' })
  current!: boolean;

  static fromMembership(membership: OrganizationMembership, currentOrgId: string): OrganizationMembershipResponseDto {
    return {
      ...OrganizationResponseDto.from(membership.organization),
      role: membership.role,
      current: membership.organization.id === currentOrgId,
    };
  }
}
