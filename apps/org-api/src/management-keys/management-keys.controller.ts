import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { CurrentUser, ROLE_RULES, Roles, UserPrincipal } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { CreateManagementKeyDto } from './dto/create-management-key.dto';
import { ManagementKeyResponseDto, ManagementKeyWithTokenResponseDto } from './dto/management-key-response.dto';
import { ManagementKeysService } from './management-keys.service';

const PERSON_ONLY = 'Owners and admins, in a session: a management key gets 403 SESSION_REQUIRED here.';

/**
 * Management keys of the session's organisation. Only a person manages them: these
 * routes do not carry @AcceptsManagementKey, so a key can neither mint a stronger key
 * nor keep itself alive.
 */
@ApiTags('management-keys')
@Controller('v1/management-keys')
export class ManagementKeysController {
  constructor(private readonly keys: ManagementKeysService) {}

  @Post()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({
    summary: 'Create a management key. The answer is the only time its token is shown.',
    description: `${PERSON_ONLY} The role is at most the creator’s own (an admin cannot create an owner key: 403 INSUFFICIENT_ROLE).`,
  })
  @ApiEnvelope(ManagementKeyWithTokenResponseDto, { status: HttpStatus.CREATED })
  create(
    @CurrentUser() user: UserPrincipal,
    @Body() dto: CreateManagementKeyDto,
    @Req() request: FastifyRequest,
  ): Promise<ManagementKeyWithTokenResponseDto> {
    return this.keys.create(user, dto, actorFromRequest(request));
  }

  @Get()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({
    summary: 'Management keys of the organisation, newest first, revoked and expired ones included.',
    description: PERSON_ONLY,
  })
  @ApiEnvelope(ManagementKeyResponseDto, { list: true })
  list(@CurrentUser() user: UserPrincipal, @Query() query: PageQueryDto): Promise<Page<ManagementKeyResponseDto>> {
    return this.keys.list(user, query.toPageRequest());
  }

  @Get(':id')
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'One management key.', description: PERSON_ONLY })
  @ApiEnvelope(ManagementKeyResponseDto)
  get(@CurrentUser() user: UserPrincipal, @Param('id') id: string): Promise<ManagementKeyResponseDto> {
    return this.keys.get(user, id);
  }

  @Post(':id/revoke')
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke a management key at once. Revoking a revoked key answers it unchanged (200).',
    description: `${PERSON_ONLY} Only an owner revokes an owner key.`,
  })
  @ApiEnvelope(ManagementKeyResponseDto)
  revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ManagementKeyResponseDto> {
    return this.keys.revoke(user, id, actorFromRequest(request));
  }
}
