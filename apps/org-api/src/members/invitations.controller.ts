import { Controller, Delete, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { CurrentUser, Roles, ROLE_RULES, UserPrincipal } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/db';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { InvitationResponseDto } from './dto/invitation-response.dto';
import { MembersService } from './members.service';

/** Pending invitations, created by POST /v1/members for emails without an account. */
@ApiTags('members')
@Controller('v1/invitations')
export class InvitationsController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Pending invitations, newest first.' })
  @ApiEnvelope(InvitationResponseDto, { list: true })
  list(@CurrentUser() user: UserPrincipal, @Query() query: PageQueryDto): Promise<Page<InvitationResponseDto>> {
    return this.members.listInvitations(user, query.toPageRequest());
  }

  @Delete(':id')
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Revoke a pending invitation. Only an owner revokes an invitation to be an owner.' })
  @ApiEnvelope(InvitationResponseDto, { description: 'The invitation, `status: "revoked"`' })
  revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<InvitationResponseDto> {
    return this.members.revokeInvitation(user, id, actorFromRequest(request));
  }
}
