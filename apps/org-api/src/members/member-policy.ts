import { canManageRole } from '@latchkey/access';
import { Role } from '@latchkey/contracts';
import { AppError } from '@latchkey/platform';

/**
 * A change to who belongs to an organisation, described by the roles it touches.
 * `targetIsLastOwner` is true when the membership changed is the organisation's
 * only owner, counted under the organisation lock so two owners cannot both leave.
 */
export type MemberChange =
  | { kind: 'add'; role: Role }
  | { kind: 'change_role'; from: Role; to: Role; targetIsLastOwner: boolean }
  | { kind: 'remove'; role: Role; self: boolean; targetIsLastOwner: boolean }
  | { kind: 'revoke_invitation'; role: Role };

/**
 * The target-dependent role rules (docs/api-conventions.md#roles), in one place. Who
 * may call a route at all is the route's @Roles; this decides whether *this* change
 * is allowed:
 * - only an owner adds, changes, promotes to or removes an owner (canManageRole),
 *   and a pending owner invitation counts as an owner;
 * - anyone may remove themselves (leave), but only owners and admins remove others;
 * - the last owner can be neither demoted nor removed, and cannot leave, so an
 *   organisation always has someone who can manage it.
 * Throws the AppError that refuses the change.
 */
export function assertMemberChangeAllowed(actorRole: Role, change: MemberChange): void {
  const leaving = change.kind === 'remove' && change.self;
  const [current, next] = rolesTouched(change);
  if (!leaving && !canManageRole(actorRole, current, next)) {
    const touchesOwner = current === Role.Owner || next === Role.Owner;
    throw new AppError(
      'INSUFFICIENT_ROLE',
      touchesOwner ? 'Only an owner can add, change or remove an owner.' : 'Only owners and admins can manage other members.',
    );
  }
  if ((change.kind === 'change_role' || change.kind === 'remove') && change.targetIsLastOwner && next !== Role.Owner) {
    throw new AppError('LAST_OWNER', 'The last owner cannot be demoted, removed or leave; make another member an owner first.');
  }
}

/** The target's role before and after the change (null: not a member before / after). */
function rolesTouched(change: MemberChange): [Role | null, Role | null] {
  switch (change.kind) {
    case 'add':
      return [null, change.role];
    case 'change_role':
      return [change.from, change.to];
    case 'remove':
    case 'revoke_invitation':
      return [change.role, null];
  }
}
