import { messageContract, MessageOf } from '../message-contract';

const ORG_ID = '^org_[0-9A-HJKMNP-TV-Z]{26}$';
const USER_ID = '^usr_[0-9A-HJKMNP-TV-Z]{26}$';

/** `orgs.get`: one organisation and its settings, for key-issuer. */
export const GET_ORGANIZATION_REQUEST = messageContract(
  {
    type: 'object',
    additionalProperties: false,
    required: ['org_id'],
    properties: { org_id: { type: 'string', pattern: ORG_ID } },
  },
  { org_id: 'org_id must be an org_ id' },
);
export type GetOrganizationRequest = MessageOf<typeof GET_ORGANIZATION_REQUEST>;

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

/** `orgs.member_role`: a user's role in an organisation, null when not a member. */
export const GET_MEMBER_ROLE_REQUEST = messageContract(
  {
    type: 'object',
    additionalProperties: false,
    required: ['org_id', 'user_id'],
    properties: {
      org_id: { type: 'string', pattern: ORG_ID },
      user_id: { type: 'string', pattern: USER_ID },
    },
  },
  { org_id: 'org_id must be an org_ id', user_id: 'user_id must be a usr_ id' },
);
export type GetMemberRoleRequest = MessageOf<typeof GET_MEMBER_ROLE_REQUEST>;

export interface MemberRoleReply {
  org_id: string;
  user_id: string;
  /** null when the user is not a member of the organisation. */
  role: 'owner' | 'admin' | 'developer' | 'viewer' | null;
}
