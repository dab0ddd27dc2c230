import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { MAX_WEBHOOK_URL_LENGTH } from '../target-safety';
import { ALL_EVENTS, EVENT_TYPES } from '../webhook-event-catalogue';
import { IsWebhookEventList, trim } from './webhook-validators';

export const WEBHOOK_ENVIRONMENTS = ['test', 'live'] as const;
export type WebhookEnvironment = (typeof WEBHOOK_ENVIRONMENTS)[number];

export const MAX_RATE_LIMIT_PER_SECOND = 1_000;

export class CreateWebhookEndpointDto {
  @ApiProperty({
    maxLength: MAX_WEBHOOK_URL_LENGTH,
    example: 'https://example.com/webhooks/latchkey',
    description:
      'https in production (http allowed elsewhere); no credentials. A host resolving to a private, loopback, link-local or metadata ' +
      'address is refused unless the deployment allows private targets.',
  })
  @Transform(trim)
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL_LENGTH)
  url!: string;

  @ApiProperty({
    type: [String],
    enum: [ALL_EVENTS, ...EVENT_TYPES],
    example: ['api_key.created', 'api_key.revoked'],
    description: 'Event types to receive, or ["*"] for all (including types added later).',
  })
  @ArrayMaxSize(EVENT_TYPES.length + 1)
  @ArrayUnique({ message: 'events must not repeat an event type' })
  @IsWebhookEventList()
  events!: string[];

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiProperty({ enum: WEBHOOK_ENVIRONMENTS, description: 'Receives the events of this environment (and organisation-wide ones).' })
  @IsIn(WEBHOOK_ENVIRONMENTS, { message: `environment must be one of: ${WEBHOOK_ENVIRONMENTS.join(', ')}` })
  environment!: WebhookEnvironment;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RATE_LIMIT_PER_SECOND, nullable: true, description: 'null: no limit.' })
  @IsOptional()
  @IsInt({ message: 'rate_limit_per_second must be an integer' })
  @Min(1)
  @Max(MAX_RATE_LIMIT_PER_SECOND)
  rate_limit_per_second?: number | null;
}
