import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { AuditLogsService } from './audit-logs.service';
import { AuditLogResponseDto } from './dto/audit-log-response.dto';
import { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';

@ApiTags('audit-logs')
@Controller('v1/audit-logs')
export class AuditLogsController {
  constructor(private readonly auditLogs: AuditLogsService) {}

  @Get()
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'The organisation’s audit log, newest first (owner, admin). `from` is inclusive, `to` exclusive.' })
  @ApiEnvelope(AuditLogResponseDto, { list: true })
  async list(@CurrentMember() user: OrgPrincipal, @Query() query: ListAuditLogsQueryDto): Promise<Page<AuditLogResponseDto>> {
    const page = await this.auditLogs.list(
      user.orgId,
      {
        action: query.action,
        actorId: query.actor_id,
        targetId: query.target_id,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
      },
      query.toPageRequest(),
    );
    return page.map((row) => AuditLogResponseDto.from(row));
  }
}
