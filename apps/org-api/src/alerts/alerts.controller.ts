import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { AlertsService } from './alerts.service';
import { AlertResponseDto } from './dto/alert-response.dto';
import { ListAlertsQueryDto } from './dto/list-alerts-query.dto';

@ApiTags('alerts')
@Controller('v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: "The organisation's anomaly alerts, newest first.",
    description:
      'Raised by the usage worker, one per episode: traffic_spike, failed_check_burst, denial_burst, new_network, test_key_volume. ' +
      'Each is also sent as an `alert.triggered` webhook event.',
  })
  @ApiEnvelope(AlertResponseDto, { list: true })
  async list(@CurrentMember() user: OrgPrincipal, @Query() query: ListAlertsQueryDto): Promise<Page<AlertResponseDto>> {
    const page = await this.alerts.list(
      user,
      { type: query.type, keyId: query.key_id, acknowledged: query.acknowledged },
      query.toPageRequest(),
    );
    return page.map(AlertResponseDto.from);
  }

  @Post(':id/ack')
  @HttpCode(HttpStatus.OK)
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Acknowledge an alert (owner, admin). Audited as alert.acknowledged; acknowledging again changes nothing.' })
  @ApiEnvelope(AlertResponseDto)
  async acknowledge(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<AlertResponseDto> {
    return AlertResponseDto.from(await this.alerts.acknowledge(user, id, actorFromRequest(request)));
  }
}
