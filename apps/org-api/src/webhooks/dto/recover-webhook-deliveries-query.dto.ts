import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601 } from 'class-validator';

/**
 * How far back recover reaches, as Svix's recover does: a since older than this is
 * refused rather than quietly re-sending (or half re-sending) weeks of events.
 */
export const RECOVER_WINDOW_DAYS = 14;

export class RecoverWebhookDeliveriesQueryDto {
  @ApiProperty({
    format: 'date-time',
    example: '2026-11-20T00:00:00Z',
    description: `Re-send failed deliveries created at or after this time: not in the future, and at most ${RECOVER_WINDOW_DAYS} days ago.`,
  })
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'since must be an ISO-8601 date-time' })
  since!: string;
}
