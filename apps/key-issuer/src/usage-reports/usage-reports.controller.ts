import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { KeyUsageQueryDto } from './dto/key-usage-query.dto';
import { ListRequestLogsQueryDto } from './dto/list-request-logs-query.dto';
import { OrgUsageQueryDto } from './dto/org-usage-query.dto';
import { RequestLogResponseDto } from './dto/request-log-response.dto';
import { KeyUsageResponseDto, OrgUsageResponseDto } from './dto/usage-response.dto';
import { UsageReportsService } from './usage-reports.service';

/** Usage statistics and request logs of the session's organisation: every member reads them. */
@ApiTags('usage')
@Controller('v1')
export class UsageReportsController {
  constructor(private readonly reports: UsageReportsService) {}

  @Get('api-keys/:id/usage')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: 'Checks of one key per minute, hour or day, by outcome code, over [from, to).',
    description:
      'Every bucket of the range is present (zero-filled). At most 1500 buckets (else 400). Counts are exact, a few seconds behind. ' +
      'Minute counts are kept 7 days and hour counts 90 days (a range starting earlier is a 400); day counts are kept.',
  })
  @ApiEnvelope(KeyUsageResponseDto)
  keyUsage(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Query() query: KeyUsageQueryDto): Promise<KeyUsageResponseDto> {
    return this.reports.keyUsage(user, id, query);
  }

  @Get('usage')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: 'Checks of the organisation over [from, to) (default: the last 30 days), grouped by key, owner, code or environment.',
    description:
      'Read from the coarsest counters from and to are aligned to. Minute counts are kept 7 days and hour counts 90 days: ' +
      'a range starting earlier must be aligned to whole hours (days) or it is a 400.',
  })
  @ApiEnvelope(OrgUsageResponseDto)
  orgUsage(@CurrentMember() user: OrgPrincipal, @Query() query: OrgUsageQueryDto): Promise<OrgUsageResponseDto> {
    return this.reports.orgUsage(user, query);
  }

  @Get('logs')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: 'Request logs: one row per key check, newest first, with filters.',
    description:
      'Kept 7 days for test keys and 90 days for live keys (REQUEST_LOG_RETENTION_TEST_DAYS / _LIVE_DAYS), or as long as the ' +
      "organisation's request_log_retention_test_days / _live_days settings say. Checks older than that are never listed.",
  })
  @ApiEnvelope(RequestLogResponseDto, { list: true })
  listLogs(@CurrentMember() user: OrgPrincipal, @Query() query: ListRequestLogsQueryDto): Promise<Page<RequestLogResponseDto>> {
    return this.reports.listLogs(user, query, query.toPageRequest());
  }
}
