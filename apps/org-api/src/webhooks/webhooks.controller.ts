import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';

import { AcceptsManagementKey, CurrentMember, OrgPrincipal, ROLE_RULES, Roles } from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { Page } from '@latchkey/contracts';
import { ApiEnvelope } from '@latchkey/platform';

import { CreateWebhookEndpointDto } from './dto/create-webhook-endpoint.dto';
import { ListWebhookDeliveriesQueryDto } from './dto/list-webhook-deliveries-query.dto';
import { ListWebhookEndpointsQueryDto } from './dto/list-webhook-endpoints-query.dto';
import { RECOVER_WINDOW_DAYS, RecoverWebhookDeliveriesQueryDto } from './dto/recover-webhook-deliveries-query.dto';
import { UpdateWebhookEndpointDto } from './dto/update-webhook-endpoint.dto';
import {
  RecoverWebhookDeliveriesResponseDto,
  WebhookDeliveryResponseDto,
  WebhookTestResponseDto,
} from './dto/webhook-delivery-response.dto';
import { WebhookEndpointResponseDto, WebhookEndpointWithSecretResponseDto } from './dto/webhook-endpoint-response.dto';
import { WebhookEventTypeResponseDto } from './dto/webhook-event-type-response.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { EVENT_TYPE_DESCRIPTIONS, EVENT_TYPES } from './webhook-event-catalogue';
import { WebhooksService } from './webhooks.service';

const DISABLED_RULE = 'A disabled endpoint answers 409 WEBHOOK_ENDPOINT_DISABLED: enable it first.';

/**
 * Webhook endpoints of the session's organisation. Owners and admins manage them
 * (docs/api-conventions.md#roles); developers and viewers read them and their
 * delivery log.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Get('event-types')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'The event types an endpoint can subscribe to, each with a one-line description.' })
  @ApiEnvelope(WebhookEventTypeResponseDto, { list: true })
  eventTypes(): WebhookEventTypeResponseDto[] {
    return EVENT_TYPES.map((type) => ({ type, description: EVENT_TYPE_DESCRIPTIONS[type] }));
  }

  @Post()
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({
    summary: 'Add an endpoint (owner, admin). The answer is the only time its signing secret is shown.',
    description:
      'url: https in production, no credentials, and not a private, loopback, link-local or metadata address (400 VALIDATION_FAILED). ' +
      'events: known types (GET /v1/webhooks/event-types) or ["*"]. ' +
      'At most WEBHOOK_MAX_ENDPOINTS (default 50) endpoints per environment, disabled ones included: one more is a 409 WEBHOOK_ENDPOINT_LIMIT_REACHED.',
  })
  @ApiEnvelope(WebhookEndpointWithSecretResponseDto, { status: HttpStatus.CREATED })
  create(
    @CurrentMember() user: OrgPrincipal,
    @Body() dto: CreateWebhookEndpointDto,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointWithSecretResponseDto> {
    return this.webhooks.create(user, dto, actorFromRequest(request));
  }

  @Get()
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'Endpoints of the organisation, newest first; `?environment=` filters.' })
  @ApiEnvelope(WebhookEndpointResponseDto, { list: true })
  list(@CurrentMember() user: OrgPrincipal, @Query() query: ListWebhookEndpointsQueryDto): Promise<Page<WebhookEndpointResponseDto>> {
    return this.webhooks.list(user, query.environment, query.toPageRequest());
  }

  @Get(':id')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'One endpoint.' })
  @ApiEnvelope(WebhookEndpointResponseDto)
  get(@CurrentMember() user: OrgPrincipal, @Param('id') id: string): Promise<WebhookEndpointResponseDto> {
    return this.webhooks.get(user, id);
  }

  @Patch(':id')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Edit an endpoint: url, events, description, rate_limit_per_second. The environment never changes.' })
  @ApiEnvelope(WebhookEndpointResponseDto)
  update(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookEndpointDto,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto> {
    return this.webhooks.update(user, id, dto, actorFromRequest(request));
  }

  @Post(':id/disable')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Pause deliveries to an endpoint. Idempotent.' })
  @ApiEnvelope(WebhookEndpointResponseDto)
  disable(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto> {
    return this.webhooks.disable(user, id, actorFromRequest(request));
  }

  @Post(':id/enable')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Resume deliveries to an endpoint, however it was disabled; clears failing_since. Idempotent.',
    description: 'Deliveries that failed while it was disabled stay failed: POST /v1/webhooks/:id/recover re-sends them.',
  })
  @ApiEnvelope(WebhookEndpointResponseDto)
  enable(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto> {
    return this.webhooks.enable(user, id, actorFromRequest(request));
  }

  @Delete(':id')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log.' })
  @ApiEnvelope(WebhookEndpointResponseDto, { description: 'The endpoint as it was' })
  delete(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto> {
    return this.webhooks.delete(user, id, actorFromRequest(request));
  }

  @Post(':id/rotate-secret')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Replace the signing secret; the new one is answered once.',
    description:
      'For 24 h (previous_secret_expires_at) every delivery carries two signatures, one per secret, so subscribers can switch ' +
      'without losing a message. Rotating again during that window ends the older secret at once.',
  })
  @ApiEnvelope(WebhookEndpointWithSecretResponseDto)
  rotateSecret(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointWithSecretResponseDto> {
    return this.webhooks.rotateSecret(user, id, actorFromRequest(request));
  }

  @Post(':id/test')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send a webhook.test event to this endpoint.',
    description:
      'The event (data: {endpoint_id}) goes through the outbox like any other, and is delivered only to this endpoint, ' +
      `whatever its events. Its delivery shows in the delivery log. ${DISABLED_RULE}`,
  })
  @ApiEnvelope(WebhookTestResponseDto, { status: HttpStatus.ACCEPTED })
  sendTest(@CurrentMember() user: OrgPrincipal, @Param('id') id: string): Promise<WebhookTestResponseDto> {
    return this.webhooks.sendTest(user, id);
  }

  @Get(':id/deliveries')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({
    summary: 'The delivery log of an endpoint, newest first, each delivery with its attempts.',
    description: 'Each attempt: time, status code, duration, the first 1 KiB of the response body, error. Filters: status, event_type.',
  })
  @ApiEnvelope(WebhookDeliveryResponseDto, { list: true })
  listDeliveries(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Query() query: ListWebhookDeliveriesQueryDto,
  ): Promise<Page<WebhookDeliveryResponseDto>> {
    return this.deliveries.list(user, id, { status: query.status, event_type: query.event_type }, query.toPageRequest());
  }

  @Post(':id/recover')
  @AcceptsManagementKey()
  @Roles(...ROLE_RULES.orgAdmins)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Re-send every failed delivery of this endpoint created since `?since=` (as Svix’s recover).',
    description:
      `Answers how many were scheduled; each keeps its webhook-id. since may be at most ${RECOVER_WINDOW_DAYS} days ago ` +
      `(400 VALIDATION_FAILED otherwise, and nothing is re-sent). ${DISABLED_RULE}`,
  })
  @ApiEnvelope(RecoverWebhookDeliveriesResponseDto, { status: HttpStatus.ACCEPTED })
  recover(
    @CurrentMember() user: OrgPrincipal,
    @Param('id') id: string,
    @Query() query: RecoverWebhookDeliveriesQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<RecoverWebhookDeliveriesResponseDto> {
    return this.deliveries.recover(user, id, new Date(query.since), actorFromRequest(request));
  }
}
