import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601 } from 'class-validator';

export class RecoverWebhookDeliveriesQueryDto {
  @ApiProperty({
    format: 'date-time',
    example: '2026-11-20T00:00:00Z',
    description: 'Re-send failed deliveries created at or after this time.',
  })
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'since must be an ISO-8601 date-time' })
  since!: string;
}
