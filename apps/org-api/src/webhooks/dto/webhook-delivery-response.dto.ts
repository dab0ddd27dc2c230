import { ApiProperty } from '@nestjs/swagger';

import { DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt } from '@latchkey/db';

export class WebhookDeliveryAttemptResponseDto {
  @ApiProperty()
  attempted_at!: string;

  @ApiProperty({ type: Number, nullable: true, description: 'null when no HTTP answer came (timeout, refused connection, breaker open).' })
  status_code!: number | null;

  @ApiProperty()
  duration_ms!: number;

  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KiB of the response body.' })
  response_body!: string | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  static from(this: void, attempt: WebhookDeliveryAttempt): WebhookDeliveryAttemptResponseDto {
    return {
      attempted_at: attempt.attemptedAt.toISOString(),
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      response_body: attempt.responseBody,
      error: attempt.error,
    };
  }
}

/** One event for one endpoint, with every attempt so far (oldest first). */
export class WebhookDeliveryResponseDto {
  @ApiProperty({ example: 'del_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'evt_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'Also the webhook-id header, the same on every attempt.' })
  event_id!: string;

  @ApiProperty({ example: 'api_key.created' })
  event_type!: string;

  @ApiProperty({ example: 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  endpoint_id!: string;

  @ApiProperty({ enum: Object.values(DeliveryStatus) })
  status!: DeliveryStatus;

  @ApiProperty()
  attempt_count!: number;

  @ApiProperty({ type: String, nullable: true })
  next_attempt_at!: string | null;

  @ApiProperty()
  created_at!: string;

  @ApiProperty({ type: [WebhookDeliveryAttemptResponseDto] })
  attempts!: WebhookDeliveryAttemptResponseDto[];

  static from(this: void, delivery: WebhookDelivery, attempts: WebhookDeliveryAttempt[]): WebhookDeliveryResponseDto {
    return {
      id: delivery.id,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      endpoint_id: delivery.endpoint.id,
      status: delivery.status,
      attempt_count: delivery.attemptCount,
      next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
      created_at: delivery.createdAt.toISOString(),
      attempts: attempts.map((attempt) => WebhookDeliveryAttemptResponseDto.from(attempt)),
    };
  }
}

export class RecoverWebhookDeliveriesResponseDto {
  @ApiProperty({ description: 'How many failed deliveries were scheduled again.' })
  recovered!: number;

  @ApiProperty()
  since!: string;
}

export class WebhookTestResponseDto {
  @ApiProperty({
    example: 'evt_01JD2Z6K3S9Q4W8E7R5T1Y0U2I',
    description: 'The webhook.test event; its delivery shows in the delivery log.',
  })
  event_id!: string;

  @ApiProperty({ example: 'webhook.test' })
  type!: string;

  @ApiProperty({ example: 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  endpoint_id!: string;
}
