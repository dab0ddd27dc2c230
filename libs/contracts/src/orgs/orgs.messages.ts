import { messageContract, MessageOf } from '../message-contract';
import type { Role } from './roles';

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

/**
 * The reply of `orgs.get`. An unknown organisation is not a reply but a NOT_FOUND
 * refusal (an RpcErrorReply). Its receivers do not check it: the schema is the type's
 * source, and org-api's orgs.rpc.controller.int-spec.ts checks the real answers
 * against it (compiled with EVENT_AJV_OPTIONS, for `created_at`'s format).
 */
export const ORGANIZATION_REPLY = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'live_access', 'settings', 'created_at'],
  properties: {
    id: { type: 'string', pattern: ORG_ID },
    name: { type: 'string' },
    live_access: { type: 'string', enum: ['not_requested', 'requested', 'approved'] },
    settings: {
      type: 'object',
      additionalProperties: false,
      required: [
        'rotation_policy_days',
        'default_expiry_days',
        'allowed_expiry_presets',
        'request_log_retention_test_days',
        'request_log_retention_live_days',
        'reminder_emails_enabled',
      ],
      properties: {
        rotation_policy_days: { type: 'integer' },
        default_expiry_days: { type: 'integer', nullable: true },
        allowed_expiry_presets: { type: 'array', items: { type: 'integer' } },
        /** null: the deployment's REQUEST_LOG_RETENTION_TEST_DAYS. */
        request_log_retention_test_days: { type: 'integer', nullable: true },
        /** null: the deployment's REQUEST_LOG_RETENTION_LIVE_DAYS. */
        request_log_retention_live_days: { type: 'integer', nullable: true },
        /** Whether expiry and rotation reminders are also mailed (the webhook events go either way). */
        reminder_emails_enabled: { type: 'boolean' },
      },
    },
    created_at: { type: 'string', format: 'date-time' },
  },
});
export type OrganizationReply = MessageOf<typeof ORGANIZATION_REPLY>;

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

/**
 * The reply of `orgs.member_role`; an unknown organisation is a NOT_FOUND refusal
 * instead. Checked like ORGANIZATION_REPLY: by org-api's int-spec, not by its receivers.
 */
export const MEMBER_ROLE_REPLY = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['org_id', 'user_id', 'role'],
  properties: {
    org_id: { type: 'string', pattern: ORG_ID },
    user_id: { type: 'string', pattern: USER_ID },
    /** null when the user is not a member of the organisation. */
    // Role's values, spelled out so the type reads them (RoleIsListed below keeps them equal).
    role: { type: 'string', enum: ['owner', 'admin', 'developer', 'viewer', null], nullable: true },
  },
});
export type MemberRoleReply = MessageOf<typeof MEMBER_ROLE_REPLY>;

/** Compile-time only: the reply lists every Role and nothing else. */
type RoleIsListed = [MemberRoleReply['role']] extends [Role | null]
  ? [Role | null] extends [MemberRoleReply['role']]
    ? true
    : never
  : never;
const roleIsListed: RoleIsListed = true;
void roleIsListed;
