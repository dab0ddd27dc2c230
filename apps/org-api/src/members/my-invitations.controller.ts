import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { CurrentUser, ROLE_RULES, Roles, UserPrincipal } from '@latchkey/access';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { InvitationResponseDto } from './dto/invitation-response.dto';
import { MembersService } from './members.service';

@ApiTags('members')
@Controller('v1/me/invitations')
export class MyInvitationsController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'Pending invitations to my email address; empty until the address is verified.' })
  @ApiEnvelope(InvitationResponseDto, { list: true })
  list(@CurrentUser() user: UserPrincipal, @Query() query: PageQueryDto): Promise<Page<InvitationResponseDto>> {
    return this.members.myInvitations(user, query.toPageRequest());
  }
}
