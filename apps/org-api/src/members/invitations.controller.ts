import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, CurrentUser, OrgPrincipal, ROLE_RULES, Roles, UserPrincipal } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { InvitationResponseDto } from './dto/invitation-response.dto';
import { InvitationTokenDto } from './dto/invitation-token.dto';
import { MemberResponseDto } from './dto/member-response.dto';
import { MembersService } from './members.service';

/**
 * Answering an invitation (any logged-in user, by the token from the mail), and the
 * older admin paths for the organisation's invitations (also under /v1/members/invitations).
 */
@ApiTags('members')
@Controller('v1/invitations')
export class InvitationsController {
  constructor(private readonly members: MembersService) {}

  @Post('accept')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Accept an invitation: become a member of its organisation.',
    description:
      'Only a user logged in with the invited address, verified (403 EMAIL_NOT_VERIFIED, 403 INVITATION_EMAIL_MISMATCH). ' +
      'An unknown, used, revoked or expired token is 404. Switch the session to the organisation with POST /v1/auth/switch-org.',
  })
  @ApiEnvelope(MemberResponseDto, { status: HttpStatus.CREATED })
  accept(@CurrentUser() user: UserPrincipal, @Body() dto: InvitationTokenDto, @Req() request: FastifyRequest): Promise<MemberResponseDto> {
    return this.members.acceptInvitation(user, dto.token, actorFromRequest(request));
  }

  @Post('decline')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Decline an invitation (same conditions as accepting).' })
  @ApiEnvelope(InvitationResponseDto)
  decline(
    @CurrentUser() user: UserPrincipal,
    @Body() dto: InvitationTokenDto,
    @Req() request: FastifyRequest,
  ): Promise<InvitationResponseDto> {
    return this.members.declineInvitation(user, dto.token, actorFromRequest(request));
  }

  @Get()
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({ summary: "The organisation's invitations, newest first (same as GET /v1/members/invitations)." })
  @ApiEnvelope(InvitationResponseDto, { list: true })
  list(@CurrentMember() user: OrgPrincipal, @Query() query: PageQueryDto): Promise<Page<InvitationResponseDto>> {
    return this.members.listInvitations(user, query.toPageRequest());
  }

  @Delete(':id')
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({ summary: 'Revoke a pending invitation (same as DELETE /v1/members/invitations/:id).' })
  @ApiEnvelope(InvitationResponseDto, { description: 'The invitation, `status: "revoked"`' })
  revoke(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<InvitationResponseDto> {
    return this.members.revokeInvitation(user, id, actorFromRequest(request));
  }
}
