import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { ApiKeysService } from './api-keys.service';
import { ApiKeyResponseDto, ApiKeyWithSecretResponseDto } from './dto/api-key-response.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ListApiKeysQueryDto } from './dto/list-api-keys-query.dto';
import { RollApiKeyDto } from './dto/roll-api-key.dto';
import { UpdateApiKeyDto } from './dto/update-api-key.dto';

const CHANGE_RULE = 'Owners and admins: any key; developers: only keys they created (else 403 INSUFFICIENT_ROLE).';

/**
 * API keys of the session's organisation. Every member reads them (masked); key
 * creators change them, as the key policy decides per key.
 */
@ApiTags('api-keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @ApiOperation({
    summary: 'Issue a key (owner, admin, developer). The answer is the only time the secret is shown.',
    description:
      'Expiry: `expires_in_days` (one of the organisation’s allowed_expiry_presets), `expires_at` (a future date), or neither ' +
      '(the organisation’s default_expiry_days; null = never). Live keys need approved live access (403 LIVE_MODE_NOT_ENABLED). ' +
      'A retry with the same Idempotency-Key replays the first answer, secret included, and issues nothing.',
  })
  @ApiEnvelope(ApiKeyWithSecretResponseDto, { status: HttpStatus.CREATED })
  create(
    @CurrentMember() user: OrgPrincipal,
    @Body() dto: CreateApiKeyDto,
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyWithSecretResponseDto> {
    return this.keys.create(user, dto, actorFromRequest(request));
  }

  @Get()
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'Keys of the organisation, newest first, with search and filters.' })
  @ApiEnvelope(ApiKeyResponseDto, { list: true })
  list(@CurrentMember() user: OrgPrincipal, @Query() query: ListApiKeysQueryDto): Promise<Page<ApiKeyResponseDto>> {
    return this.keys.list(user, query, query.toPageRequest());
  }

  @Get(':id')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'One key.' })
  @ApiEnvelope(ApiKeyResponseDto)
  get(@CurrentMember() user: OrgPrincipal, @Param('id') id: string): Promise<ApiKeyResponseDto> {
    return this.keys.get(user, id);
  }

  @Patch(':id')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @ApiOperation({
    summary: 'Edit a key: name, description, expires_at, permissions, restrictions, rate_limit, quota, metadata, owner_id.',
    description: `${CHANGE_RULE} A revoked key cannot be edited (409 KEY_REVOKED).`,
  })
  @ApiEnvelope(ApiKeyResponseDto)
  update(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Body() dto: UpdateApiKeyDto,
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyResponseDto> {
    return this.keys.update(user, id, dto, actorFromRequest(request));
  }

  @Post(':id/disable')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Pause a key; checks answer DISABLED until it is enabled. Idempotent.', description: CHANGE_RULE })
  @ApiEnvelope(ApiKeyResponseDto)
  disable(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ApiKeyResponseDto> {
    return this.keys.disable(user, id, actorFromRequest(request));
  }

  @Post(':id/enable')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Resume a disabled key. Idempotent.', description: CHANGE_RULE })
  @ApiEnvelope(ApiKeyResponseDto)
  enable(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ApiKeyResponseDto> {
    return this.keys.enable(user, id, actorFromRequest(request));
  }

  @Post(':id/roll')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  // 200, not 201: rolling changes an existing key rather than creating a resource.
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Replace the secret; the new one is answered once. The old one works for expire_old_in_seconds (default 24 h, at most 7 days; 0: stops now).',
    description: `${CHANGE_RULE} A signing key keeps its public key. Only one old secret is kept: rolling again ends the earlier one's grace.`,
  })
  @ApiEnvelope(ApiKeyWithSecretResponseDto)
  roll(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Body() dto: RollApiKeyDto,
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyWithSecretResponseDto> {
    return this.keys.roll(user, id, dto.expire_old_in_seconds, actorFromRequest(request));
  }

  @Post(':id/revoke')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke a key for good, at once. Revoking a revoked key answers it unchanged (200).',
    description: CHANGE_RULE,
  })
  @ApiEnvelope(ApiKeyResponseDto)
  revoke(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ApiKeyResponseDto> {
    return this.keys.revoke(user, id, actorFromRequest(request));
  }

  @Delete(':id')
  @AcceptsManagementKey({ honoursEnvironment: true })
  @Roles(...ROLE_RULES.keyCreators)
  @ApiOperation({ summary: 'Delete a key for good. The audit log and the api_key.deleted event keep its id.', description: CHANGE_RULE })
  @ApiEnvelope(ApiKeyResponseDto, { description: 'The key as it was' })
  delete(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ApiKeyResponseDto> {
    return this.keys.delete(user, id, actorFromRequest(request));
  }
}
