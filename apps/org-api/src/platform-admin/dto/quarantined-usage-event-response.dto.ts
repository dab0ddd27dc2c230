import { ApiProperty } from '@nestjs/swagger';

import { QuarantinedUsageEvent } from '@latchkey/db';

export class QuarantinedUsageEventResponseDto {
  @ApiProperty({ example: 'qev_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ description: 'The usage batch the event came in; the rest of that batch was counted.' })
  batch_id!: string;

  @ApiProperty({ example: 'path holds a NUL byte or an unpaired surrogate' })
  reason!: string;

  @ApiProperty({
    description: 'The event as JSON text, exactly as it arrived; characters Postgres refuses are left as \\u escapes.',
    example: '{"key_id":"key_01JD…","org_id":"org_01JD…","code":"VALID","path":"/v1/a\\u0000"}',
  })
  event!: string;

  @ApiProperty()
  quarantined_at!: string;

  static from(this: void, row: QuarantinedUsageEvent): QuarantinedUsageEventResponseDto {
    return {
      id: row.id,
      batch_id: row.batchId,
      reason: row.reason,
      event: row.event,
      quarantined_at: row.quarantinedAt.toISOString(),
    };
  }
}
