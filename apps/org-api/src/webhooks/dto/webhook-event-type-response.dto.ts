import { ApiProperty } from '@nestjs/swagger';

import { EventType } from '@latchkey/contracts';

import { EVENT_TYPES } from '../webhook-event-catalogue';

export class WebhookEventTypeResponseDto {
  @ApiProperty({ enum: EVENT_TYPES, example: 'api_key.created' })
  type!: EventType;

  @ApiProperty({ example: 'An API key was issued.' })
  description!: string;
}
