import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { AddMemberDto } from './dto/add-member.dto';
import { ChangeMemberRoleDto } from './dto/change-member-role.dto';
import { InvitationResponseDto } from './dto/invitation-response.dto';
import { MemberResponseDto } from './dto/member-response.dto';
import { MembersService } from './members.service';

@ApiTags('members')
@Controller('v1/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Roles(...ROLE_RULES.anyMember)
  @AcceptsManagementKey()
  @ApiOperation({ summary: "The organisation's members, newest first." })
  @ApiEnvelope(MemberResponseDto, { list: true })
  list(@CurrentMember() user: OrgPrincipal, @Query() query: PageQueryDto): Promise<Page<MemberResponseDto>> {
    return this.members.listMembers(user, query.toPageRequest());
  }

  @Post()
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({
    summary: 'Invite an email address.',
    description:
      'Always creates an invitation, whether or not the address has an account (one answer either way). A single-use ' +
      'link is mailed to the address; it becomes a membership only when a user logged in with that address, verified, ' +
      'accepts it (POST /v1/invitations/accept) before it expires (INVITATION_TTL_DAYS). 409 ALREADY_MEMBER or ' +
      'ALREADY_INVITED. Only an owner can invite an owner.',
  })
  @ApiEnvelope(InvitationResponseDto, { status: HttpStatus.CREATED })
  add(@CurrentMember() user: OrgPrincipal, @Body() dto: AddMemberDto, @Req() request: FastifyRequest): Promise<InvitationResponseDto> {
    return this.members.addMember(user, { email: dto.email, role: dto.role }, actorFromRequest(request));
  }

  @Get('invitations')
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({ summary: "The organisation's open invitations (pending or expired), newest first." })
  @ApiEnvelope(InvitationResponseDto, { list: true })
  listInvitations(@CurrentMember() user: OrgPrincipal, @Query() query: PageQueryDto): Promise<Page<InvitationResponseDto>> {
    return this.members.listInvitations(user, query.toPageRequest());
  }

  @Post('invitations/:id/resend')
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Mail a pending invitation again with a new token and expiry; the old link stops working.' })
  @ApiEnvelope(InvitationResponseDto)
  resendInvitation(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<InvitationResponseDto> {
    return this.members.resendInvitation(user, id, actorFromRequest(request));
  }

  @Delete('invitations/:id')
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({ summary: 'Revoke a pending invitation; its link stops working. Only an owner revokes an owner invitation.' })
  @ApiEnvelope(InvitationResponseDto, { description: 'The invitation, `status: "revoked"`' })
  revokeInvitation(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<InvitationResponseDto> {
    return this.members.revokeInvitation(user, id, actorFromRequest(request));
  }

  @Patch(':id')
  @Roles(...ROLE_RULES.orgAdmins)
  @AcceptsManagementKey()
  @ApiOperation({
    summary: "Change a member's role. Only an owner touches an owner; the last owner cannot be demoted (409 LAST_OWNER).",
    description: 'Lowering a role revokes the management keys the member created with a stronger role than the new one.',
  })
  @ApiEnvelope(MemberResponseDto)
  changeRole(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Body() dto: ChangeMemberRoleDto,
    @Req() request: FastifyRequest,
  ): Promise<MemberResponseDto> {
    return this.members.changeRole(user, id, dto.role, actorFromRequest(request));
  }

  @Delete(':id')
  // Any member may call it to leave (their own membership id); removing others is
  // for owners and admins, decided by the member policy.
  @Roles(...ROLE_RULES.anyMember)
  @AcceptsManagementKey()
  @ApiOperation({
    summary: 'Remove a member, or leave (your own membership id).',
    description:
      "The member's sessions in this organisation stop working at once and the management keys they created are revoked. " +
      'The last owner cannot be removed or leave (409 LAST_OWNER).',
  })
  @ApiEnvelope(MemberResponseDto, { description: 'The membership as it was' })
  remove(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<MemberResponseDto> {
    return this.members.removeMember(user, id, actorFromRequest(request));
  }
}
