import { Body, Controller, Get, HttpCode, HttpStatus, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, CurrentUser, OrgPrincipal, ROLE_RULES, Roles, UserPrincipal } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope, AppError, PageQueryDto } from '@latchkey/platform';

import { OrganizationMembershipResponseDto } from './dto/organization-membership-response.dto';
import { OrganizationResponseDto, OrganizationSettingsDto } from './dto/organization-response.dto';
import { UpdateOrganizationSettingsDto } from './dto/update-organization-settings.dto';
import { UpdateOrganizationDto } from './dto/update-organization.dto';
import { OrganizationsService } from './organizations.service';

/** The caller's organisations; `current` is the one the session acts in (switch with /v1/auth/switch-org). */
@ApiTags('organizations')
@Controller('v1/orgs')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'The organisations the caller belongs to, with the caller’s role in each.' })
  @ApiEnvelope(OrganizationMembershipResponseDto, { list: true })
  async list(@CurrentUser() user: UserPrincipal, @Query() query: PageQueryDto): Promise<Page<OrganizationMembershipResponseDto>> {
    const page = await this.organizations.listForUser(user.userId, query.toPageRequest());
    return page.map((membership) => OrganizationMembershipResponseDto.fromMembership(membership, user.orgId));
  }

  @Get('current')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'The organisation the session acts in.' })
  @ApiEnvelope(OrganizationResponseDto)
  async current(@CurrentMember() user: OrgPrincipal): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.findById(user.orgId));
  }

  @Patch('current')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Rename the organisation (owner, admin). Audited as org.updated.' })
  @ApiEnvelope(OrganizationResponseDto)
  async update(
    @CurrentMember() user: OrgPrincipal,
    @Body() dto: UpdateOrganizationDto,
    @Req() request: FastifyRequest,
  ): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.rename(user.orgId, dto.name, actorFromRequest(request)));
  }

  @Get('current/settings')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: 'Rotation policy, default key expiry, allowed expiry presets, request-log retention and whether reminders are mailed.',
  })
  @ApiEnvelope(OrganizationSettingsDto)
  async settings(@CurrentMember() user: OrgPrincipal): Promise<OrganizationSettingsDto> {
    return OrganizationResponseDto.from(await this.organizations.findById(user.orgId)).settings;
  }

  @Patch('current/settings')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({
    summary: 'Change settings (owner, admin). Fields left out keep their value; at least one is needed. Audited as org.settings_updated.',
  })
  @ApiEnvelope(OrganizationSettingsDto)
  async updateSettings(
    @CurrentMember() user: OrgPrincipal,
    @Body() dto: UpdateOrganizationSettingsDto,
    @Req() request: FastifyRequest,
  ): Promise<OrganizationSettingsDto> {
    const changes = {
      ...(dto.rotation_policy_days !== undefined ? { rotation_policy_days: dto.rotation_policy_days } : {}),
      ...(dto.default_expiry_days !== undefined ? { default_expiry_days: dto.default_expiry_days } : {}),
      ...(dto.allowed_expiry_presets !== undefined ? { allowed_expiry_presets: dto.allowed_expiry_presets } : {}),
      ...(dto.request_log_retention_test_days !== undefined
        ? { request_log_retention_test_days: dto.request_log_retention_test_days }
        : {}),
      ...(dto.request_log_retention_live_days !== undefined
        ? { request_log_retention_live_days: dto.request_log_retention_live_days }
        : {}),
      ...(dto.reminder_emails_enabled !== undefined ? { reminder_emails_enabled: dto.reminder_emails_enabled } : {}),
    };
    if (Object.keys(changes).length === 0) {
      throw AppError.validation(
        'Send at least one of rotation_policy_days, default_expiry_days, allowed_expiry_presets, ' +
          'request_log_retention_test_days, request_log_retention_live_days, reminder_emails_enabled.',
      );
    }
    const org = await this.organizations.updateSettings(user.orgId, changes, actorFromRequest(request));
    return OrganizationResponseDto.from(org).settings;
  }

  @Post('current/live-access')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Ask the platform operator for live mode (owner, admin). Asking again while pending answers the same state; ' +
      'once approved it is a 409 LIVE_ACCESS_ALREADY_APPROVED.',
  })
  @ApiEnvelope(OrganizationResponseDto)
  async requestLiveAccess(@CurrentMember() user: OrgPrincipal, @Req() request: FastifyRequest): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.requestLiveAccess(user.orgId, actorFromRequest(request)));
  }
}
