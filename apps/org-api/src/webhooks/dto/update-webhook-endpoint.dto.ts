import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { MAX_WEBHOOK_URL_LENGTH } from '../target-safety';
import { ALL_EVENTS, EVENT_TYPES } from '../webhook-event-catalogue';
import { MAX_RATE_LIMIT_PER_SECOND } from './create-webhook-endpoint.dto';
import { IsWebhookEventList, trim } from './webhook-validators';

/** Fields left out keep their value. The environment of an endpoint never changes. */
export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional({ maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'Checked again as on create.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: [ALL_EVENTS, ...EVENT_TYPES] })
  @IsOptional()
  @ArrayMaxSize(EVENT_TYPES.length + 1)
  @ArrayUnique({ message: 'events must not repeat an event type' })
  @IsWebhookEventList()
  events?: string[];

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RATE_LIMIT_PER_SECOND, nullable: true, description: 'null: no limit.' })
  @IsOptional()
  @IsInt({ message: 'rate_limit_per_second must be an integer' })
  @Min(1)
  @Max(MAX_RATE_LIMIT_PER_SECOND)
  rate_limit_per_second?: number | null;
}
