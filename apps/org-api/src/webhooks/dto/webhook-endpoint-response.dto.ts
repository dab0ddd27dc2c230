import { ApiProperty } from '@nestjs/swagger';

import { WebhookDisabledReason, WebhookEndpoint } from '@latchkey/db';

import { WEBHOOK_ENVIRONMENTS, WebhookEnvironment } from './create-webhook-endpoint.dto';

export const WebhookEndpointStatus = {
  Enabled: 'enabled',
  Disabled: 'disabled',
} as const;
export type WebhookEndpointStatus = (typeof WebhookEndpointStatus)[keyof typeof WebhookEndpointStatus];

/** An endpoint as every answer and audit row shows it: never a secret or a sealed value. */
export class WebhookEndpointResponseDto {
  @ApiProperty({ example: 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'https://example.com/webhooks/latchkey' })
  url!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: [String], example: ['api_key.created'], description: 'Event types, or ["*"] for all.' })
  events!: string[];

  @ApiProperty({ enum: WEBHOOK_ENVIRONMENTS })
  environment!: WebhookEnvironment;

  @ApiProperty({ enum: Object.values(WebhookEndpointStatus) })
  status!: WebhookEndpointStatus;

  @ApiProperty({ type: Number, nullable: true, description: 'Deliveries per second at most; null: no limit.' })
  rate_limit_per_second!: number | null;

  @ApiProperty({ type: String, nullable: true })
  disabled_at!: string | null;

  @ApiProperty({ enum: Object.values(WebhookDisabledReason), nullable: true, description: 'manual, gone (answered 410) or failing.' })
  disabled_reason!: WebhookDisabledReason | null;

  @ApiProperty({ type: String, nullable: true, description: 'Start of the current run of failed deliveries; null while healthy.' })
  failing_since!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'After a rotation, deliveries carry a signature with the previous secret too, until this time.',
  })
  previous_secret_expires_at!: string | null;

  @ApiProperty({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  created_by!: string;

  @ApiProperty()
  created_at!: string;

  @ApiProperty()
  updated_at!: string;

  static from(this: void, endpoint: WebhookEndpoint, now = new Date()): WebhookEndpointResponseDto {
    const overlapEnds =
      endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now ? endpoint.previousSecretExpiresAt : null;
    return {
      id: endpoint.id,
      url: endpoint.url,
      description: endpoint.description,
      events: [...endpoint.events],
      environment: endpoint.environment,
      status: endpoint.disabledAt ? WebhookEndpointStatus.Disabled : WebhookEndpointStatus.Enabled,
      rate_limit_per_second: endpoint.rateLimitPerSecond,
      disabled_at: endpoint.disabledAt?.toISOString() ?? null,
      disabled_reason: endpoint.disabledReason,
      failing_since: endpoint.failingSince?.toISOString() ?? null,
      previous_secret_expires_at: overlapEnds?.toISOString() ?? null,
      created_by: endpoint.createdBy,
      created_at: endpoint.createdAt.toISOString(),
      updated_at: endpoint.updatedAt.toISOString(),
    };
  }
}

/** The answer to a create or a rotation: the only time the secret is shown. */
export class WebhookEndpointWithSecretResponseDto extends WebhookEndpointResponseDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'Shown once; store it now. Verify deliveries with it (Standard Webhooks: the standardwebhooks or svix libraries).',
  })
  secret!: string;
}
