import { IsString, Matches } from 'class-validator';

const ORG_ID = /^org_[0-9A-HJKMNP-TV-Z]{26}$/;
const USER_ID = /^usr_[0-9A-HJKMNP-TV-Z]{26}$/;

export class GetOrganizationRequest {
  @IsString()
  @Matches(ORG_ID, { message: 'org_id must be an org_ id' })
  org_id!: string;
}

export interface OrganizationReply {
  id: string;
  name: string;
  live_access: 'not_requested' | 'requested' | 'approved';
  settings: {
    rotation_policy_days: number;
    default_expiry_days: number | null;
    allowed_expiry_presets: number[];
    /** null: the deployment's REQUEST_LOG_RETENTION_TEST_DAYS. */
    request_log_retention_test_days: number | null;
    /** null: the deployment's REQUEST_LOG_RETENTION_LIVE_DAYS. */
    request_log_retention_live_days: number | null;
    /** Whether expiry and rotation reminders are also mailed (the webhook events go either way). */
    reminder_emails_enabled: boolean;
  };
  created_at: string;
}

export class GetMemberRoleRequest {
  @IsString()
  @Matches(ORG_ID, { message: 'org_id must be an org_ id' })
  org_id!: string;

  @IsString()
  @Matches(USER_ID, { message: 'user_id must be a usr_ id' })
  user_id!: string;
}

export interface MemberRoleReply {
  org_id: string;
  user_id: string;
  /** null when the user is not a member of the organisation. */
  role: 'owner' | 'admin' | 'developer' | 'viewer' | null;
}
