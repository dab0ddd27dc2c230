import { Role } from '@latchkey/contracts';
import { AppError } from '@latchkey/platform';

import { assertMemberChangeAllowed, MemberChange } from './member-policy';

function verdict(actorRole: Role, change: MemberChange): string {
  try {
    assertMemberChangeAllowed(actorRole, change);
    return 'allowed';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe(assertMemberChangeAllowed.name, () => {
  it('lets only an owner add an owner; admins add everyone else', () => {
    expect(verdict(Role.Owner, { kind: 'add', role: Role.Owner })).toBe('allowed');
    expect(verdict(Role.Admin, { kind: 'add', role: Role.Owner })).toBe('INSUFFICIENT_ROLE');
    expect(verdict(Role.Admin, { kind: 'add', role: Role.Admin })).toBe('allowed');
    expect(verdict(Role.Developer, { kind: 'add', role: Role.Viewer })).toBe('INSUFFICIENT_ROLE');
  });

  it("lets only an owner change an owner's role or promote to owner", () => {
    const demoteOwner = { kind: 'change_role', from: Role.Owner, to: Role.Admin, targetIsLastOwner: false } as const;
    expect(verdict(Role.Owner, demoteOwner)).toBe('allowed');
    expect(verdict(Role.Admin, demoteOwner)).toBe('INSUFFICIENT_ROLE');
    const promote = { kind: 'change_role', from: Role.Developer, to: Role.Owner, targetIsLastOwner: false } as const;
    expect(verdict(Role.Owner, promote)).toBe('allowed');
    expect(verdict(Role.Admin, promote)).toBe('INSUFFICIENT_ROLE');
    expect(verdict(Role.Admin, { kind: 'change_role', from: Role.Viewer, to: Role.Admin, targetIsLastOwner: false })).toBe('allowed');
  });

  it('lets anyone leave but only owners and admins remove others', () => {
    for (const role of [Role.Admin, Role.Developer, Role.Viewer]) {
      expect(verdict(role, { kind: 'remove', role, self: true, targetIsLastOwner: false })).toBe('allowed');
    }
    expect(verdict(Role.Developer, { kind: 'remove', role: Role.Viewer, self: false, targetIsLastOwner: false })).toBe('INSUFFICIENT_ROLE');
    expect(verdict(Role.Admin, { kind: 'remove', role: Role.Developer, self: false, targetIsLastOwner: false })).toBe('allowed');
    expect(verdict(Role.Admin, { kind: 'remove', role: Role.Owner, self: false, targetIsLastOwner: false })).toBe('INSUFFICIENT_ROLE');
  });

  it('never lets the last owner be demoted, removed or leave', () => {
    expect(verdict(Role.Owner, { kind: 'change_role', from: Role.Owner, to: Role.Admin, targetIsLastOwner: true })).toBe('LAST_OWNER');
    expect(verdict(Role.Owner, { kind: 'change_role', from: Role.Owner, to: Role.Owner, targetIsLastOwner: true })).toBe('allowed');
    expect(verdict(Role.Owner, { kind: 'remove', role: Role.Owner, self: true, targetIsLastOwner: true })).toBe('LAST_OWNER');
    expect(verdict(Role.Owner, { kind: 'remove', role: Role.Owner, self: true, targetIsLastOwner: false })).toBe('allowed');
  });

  it('treats a pending owner invitation like an owner', () => {
    expect(verdict(Role.Admin, { kind: 'revoke_invitation', role: Role.Owner })).toBe('INSUFFICIENT_ROLE');
    expect(verdict(Role.Admin, { kind: 'revoke_invitation', role: Role.Developer })).toBe('allowed');
    expect(verdict(Role.Owner, { kind: 'revoke_invitation', role: Role.Owner })).toBe('allowed');
  });
});
