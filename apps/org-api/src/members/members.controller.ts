import { Body, Controller, Delete, Get, HttpStatus, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { CurrentUser, Roles, ROLE_RULES, UserPrincipal } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/db';
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
  @ApiOperation({ summary: "The organisation's members, newest first." })
  @ApiEnvelope(MemberResponseDto, { list: true })
  list(@CurrentUser() user: UserPrincipal, @Query() query: PageQueryDto): Promise<Page<MemberResponseDto>> {
    return this.members.listMembers(user, query.toPageRequest());
  }

  @Post()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({
    summary: 'Add a member by email.',
    description:
      'An email with an account becomes a member at once (a member object). Any other email gets a pending invitation ' +
      '(an invitation object, `status: "invited"`) that becomes a membership when that email signs up or logs in. ' +
      '409 ALREADY_MEMBER or ALREADY_INVITED when it is already either. Only an owner can add an owner.',
  })
  // Overrides the 201 entry of ApiEnvelope below: the answer is one of two shapes.
  @ApiResponse({
    status: HttpStatus.CREATED,
    description: 'The new member, or the pending invitation',
    schema: {
      type: 'object',
      required: ['success', 'data'],
      properties: {
        success: { type: 'boolean', enum: [true] },
        data: { oneOf: [{ $ref: getSchemaPath(MemberResponseDto) }, { $ref: getSchemaPath(InvitationResponseDto) }] },
      },
    },
  })
  @ApiExtraModels(InvitationResponseDto)
  @ApiEnvelope(MemberResponseDto, { status: HttpStatus.CREATED })
  add(
    @CurrentUser() user: UserPrincipal,
    @Body() dto: AddMemberDto,
    @Req() request: FastifyRequest,
  ): Promise<MemberResponseDto | InvitationResponseDto> {
    return this.members.addMember(user, { email: dto.email, role: dto.role }, actorFromRequest(request));
  }

  @Patch(':id')
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: "Change a member's role. Only an owner touches an owner; the last owner cannot be demoted (409 LAST_OWNER)." })
  @ApiEnvelope(MemberResponseDto)
  changeRole(
    @CurrentUser() user: UserPrincipal,
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
  @ApiOperation({
    summary: 'Remove a member, or leave (your own membership id).',
    description:
      "The member's sessions in this organisation stop working at once. The last owner cannot be removed or leave (409 LAST_OWNER).",
  })
  @ApiEnvelope(MemberResponseDto, { description: 'The membership as it was' })
  remove(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<MemberResponseDto> {
    return this.members.removeMember(user, id, actorFromRequest(request));
  }
}
