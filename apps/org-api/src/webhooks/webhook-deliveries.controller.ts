import { Controller, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { ApiEnvelope } from '@latchkey/platform';

import { WebhookDeliveryResponseDto } from './dto/webhook-delivery-response.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

@ApiTags('webhooks')
@Controller('v1/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Post(':id/retry')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send one delivery again, whatever its status (owner, admin).',
    description:
      'The delivery becomes pending and its next attempt is queued at once, with the same webhook-id. A repeated retry before ' +
      'that attempt runs queues nothing more. A disabled endpoint answers 409 WEBHOOK_ENDPOINT_DISABLED.',
  })
  @ApiEnvelope(WebhookDeliveryResponseDto, { status: HttpStatus.ACCEPTED })
  retry(@CurrentMember() user: OrgPrincipal, @Param('id') id: string, @Req() request: FastifyRequest): Promise<WebhookDeliveryResponseDto> {
    return this.deliveries.retry(user, id, actorFromRequest(request));
  }
}
