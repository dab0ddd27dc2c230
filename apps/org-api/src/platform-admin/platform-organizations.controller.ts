import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { PlatformAdmin } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { OrganizationResponseDto } from '../organizations/dto/organization-response.dto';
import { OrganizationsService } from '../organizations/organizations.service';
import { ListPlatformOrganizationsQueryDto } from './dto/list-platform-organizations-query.dto';

/**
 * The platform operator's view of every tenant, authorised by PLATFORM_ADMIN_TOKEN
 * rather than a session. Nothing here is reachable with a member's session.
 */
@ApiTags('platform')
@PlatformAdmin()
@Controller('v1/platform/orgs')
export class PlatformOrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get()
  @ApiOperation({ summary: 'All organisations, newest first; `?live_access=requested` is the queue of live-mode requests.' })
  @ApiEnvelope(OrganizationResponseDto, { list: true })
  async list(@Query() query: ListPlatformOrganizationsQueryDto): Promise<Page<OrganizationResponseDto>> {
    const page = await this.organizations.listByLiveAccess(query.live_access, query.toPageRequest());
    return page.map((org) => OrganizationResponseDto.from(org));
  }

  @Post(':id/approve-live')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Approve a live-mode request. An organisation that never requested it is a 409 LIVE_ACCESS_NOT_REQUESTED; ' +
      'approving again answers the approved state. Audited as org.live_access_approved.',
  })
  @ApiEnvelope(OrganizationResponseDto)
  async approveLive(@Param('id') id: string, @Req() request: FastifyRequest): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.approveLiveAccess(id, actorFromRequest(request)));
  }
}
