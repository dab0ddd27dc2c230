import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

import { EventType } from '@latchkey/contracts';
import { DeliveryStatus } from '@latchkey/db';
import { PageQueryDto } from '@latchkey/platform';

import { EVENT_TYPES } from '../webhook-event-catalogue';

const STATUSES = Object.values(DeliveryStatus);

export class ListWebhookDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES, { message: `status must be one of: ${STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ enum: EVENT_TYPES })
  @IsOptional()
  @IsIn(EVENT_TYPES, { message: 'event_type must be a known event type (see GET /v1/webhooks/event-types)' })
  event_type?: EventType;
}
