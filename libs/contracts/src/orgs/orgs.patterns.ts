/**
 * Redis-transport patterns served by org-api. Part of the wire contract between
 * services: DO NOT RENAME a pattern that a deployed service may still call.
 */
export const OrgsPattern = {
  GetOrganization: 'orgs.get',
  GetMemberRole: 'orgs.member_role',
} as const;
export type OrgsPattern = (typeof OrgsPattern)[keyof typeof OrgsPattern];
