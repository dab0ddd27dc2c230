import { Role } from '@latchkey/contracts';

/**
 * Who may give or take which role (docs/api-conventions.md#roles): only an owner
 * touches an owner (promoting to, demoting from or removing one); admins manage
 * everyone else.
 */
export function canManageRole(actor: Role, targetCurrentRole: Role | null, targetNewRole: Role | null): boolean {
  if (actor === Role.Owner) return true;
  if (actor !== Role.Admin) return false;
  return targetCurrentRole !== Role.Owner && targetNewRole !== Role.Owner;
}

/** Role sets used by routes, named by what they allow. */
export const ROLE_RULES = {
  anyMember: [Role.Owner, Role.Admin, Role.Developer, Role.Viewer],
  orgAdmins: [Role.Owner, Role.Admin],
  keyCreators: [Role.Owner, Role.Admin, Role.Developer],
  ownersOnly: [Role.Owner],
} as const satisfies Record<string, readonly Role[]>;
