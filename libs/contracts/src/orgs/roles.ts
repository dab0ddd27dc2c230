/**
 * Membership roles (docs/api-conventions.md#roles), strongest first. Order matters:
 * `ROLE_RANK` is used to decide who may change whom.
 */
export const Role = {
  Owner: 'owner',
  Admin: 'admin',
  Developer: 'developer',
  Viewer: 'viewer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLES: readonly Role[] = Object.values(Role);
