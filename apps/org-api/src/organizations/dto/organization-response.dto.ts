import { ApiProperty } from '@nestjs/swagger';

import { DEFAULT_ORGANIZATION_SETTINGS, LiveAccessStatus, Organization } from '@latchkey/db';

export class OrganizationSettingsDto {
  @ApiProperty({ example: 90 })
  rotation_policy_days!: number;

  @ApiProperty({ nullable: true, type: Number, example: null })
  default_expiry_days!: number | null;

  @ApiProperty({ type: [Number], example: [30, 60, 90] })
  allowed_expiry_presets!: number[];

  @ApiProperty({
    nullable: true,
    type: Number,
    example: null,
    description: "Days request logs of test keys are kept; null: the deployment's REQUEST_LOG_RETENTION_TEST_DAYS (7 by default).",
  })
  request_log_retention_test_days!: number | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    example: 30,
    description: "Days request logs of live keys are kept; null: the deployment's REQUEST_LOG_RETENTION_LIVE_DAYS (90 by default).",
  })
  request_log_retention_live_days!: number | null;

  @ApiProperty({
    example: true,
    description:
      "Whether expiry and rotation reminders are also mailed to the key's creator and the organisation's owners and admins " +
      '(true by default); the webhook events are sent either way.',
  })
  reminder_emails_enabled!: boolean;
}

export class OrganizationResponseDto {
  @ApiProperty({ example: 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: Object.values(LiveAccessStatus), description: 'Live keys can be issued once approved.' })
  live_access!: LiveAccessStatus;

  @ApiProperty({ nullable: true, type: String })
  live_access_requested_at!: string | null;

  @ApiProperty({ nullable: true, type: String })
  live_access_approved_at!: string | null;

  @ApiProperty({ type: OrganizationSettingsDto })
  settings!: OrganizationSettingsDto;

  @ApiProperty()
  created_at!: string;

  static from(org: Organization): OrganizationResponseDto {
    return {
      id: org.id,
      name: org.name,
      live_access: org.liveAccess,
      live_access_requested_at: org.liveAccessRequestedAt?.toISOString() ?? null,
      live_access_approved_at: org.liveAccessApprovedAt?.toISOString() ?? null,
      // Defaults first: settings stored before a setting existed answer it as unset.
      settings: { ...DEFAULT_ORGANIZATION_SETTINGS, ...org.settings },
      created_at: org.createdAt.toISOString(),
    };
  }
}
