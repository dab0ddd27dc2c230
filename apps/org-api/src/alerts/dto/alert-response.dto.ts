import { ApiProperty } from '@nestjs/swagger';

import { Alert, ALERT_SEVERITIES, ALERT_TYPES, AlertSeverity, AlertType, alertView } from '@latchkey/db';

/** Also the `data` of the `alert.triggered` webhook event (`alertView`). */
export class AlertResponseDto {
  @ApiProperty({ example: 'alr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ example: 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  org_id!: string;

  @ApiProperty({ nullable: true, type: String, example: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'null for an IP burst.' })
  key_id!: string | null;

  @ApiProperty({ nullable: true, enum: ['test', 'live'] })
  environment!: 'test' | 'live' | null;

  @ApiProperty({ enum: ALERT_TYPES })
  type!: AlertType;

  @ApiProperty({ enum: ALERT_SEVERITIES })
  severity!: AlertSeverity;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What the rule saw: counts, threshold, minute, ip or networks.',
    example: { minute: '2026-11-23T10:42:00.000Z', checks: 1450, baseline_per_minute: 96.3, threshold: 963 },
  })
  details!: Record<string, unknown>;

  @ApiProperty()
  created_at!: string;

  @ApiProperty({ nullable: true, type: String })
  acknowledged_at!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The user who acknowledged it.' })
  acknowledged_by!: string | null;

  static from(this: void, alert: Alert): AlertResponseDto {
    return alertView(alert);
  }
}
