import { EventType, Role } from '@latchkey/contracts';
import { AuditLog, Invitation, InvitationState, Membership, OutboxEvent, Session, User } from '@latchkey/db';
import { RedisService } from '@latchkey/platform';

import { outboxEventErrors } from '../../../../test/support/event-samples';
import { tokenFromMail } from '../../../../test/support/mailbox';
import { SeededMember, seedMember, seedOrg, seedUser } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { LoginThrottleService } from '../throttle/login-throttle.service';
import { MembersService } from './members.service';

const ACCEPT = '/console/invitations/accept';

describe(MembersService.name, () => {
  let harness: ServiceHarness;
  let members: MembersService;

  beforeAll(async () => {
    // Invitation mails are throttled in Redis, under this file's own prefix.
    harness = await ServiceHarness.start({ providers: [MembersService, LoginThrottleService, RedisService] });
    members = harness.get(MembersService);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const auditRows = (orgId: string, action: string) => harness.em().find(AuditLog, { orgId, action }, { orderBy: { id: 'asc' } });
  const ownerCount = (orgId: string) => harness.em().count(Membership, { organization: orgId, role: Role.Owner });
  const isMember = async (orgId: string, userId: string) =>
    (await harness.em().count(Membership, { organization: orgId, user: userId })) === 1;

  /** A verified user invited to `owner`'s organisation with `role`, and the token of the mailed link. */
  async function invited(owner: SeededMember, role: Role) {
    const user = await seedUser(harness.em());
    const invitation = await members.addMember(owner.principal, { email: user.email, role }, owner.actor);
    const token = tokenFromMail(harness.mails, user.email, ACCEPT);
    return { user, invitation, token, principal: { kind: 'user' as const, userId: user.id, orgId: owner.orgId, role, sessionId: 'ses_x' } };
  }

  it('audits member.invited with the email, role and expiry of the invitation', async () => {
    const owner = await seedOrg(harness.em());
    const email = `invitee-${Date.now()}@example.com`;
    const invitation = await members.addMember(owner.principal, { email, role: Role.Developer }, owner.actor);

    expect(await auditRows(owner.orgId, 'member.invited')).toEqual([
      expect.objectContaining({
        actorType: 'user',
        actorId: owner.userId,
        targetType: 'invitation',
        targetId: invitation.id,
        before: null,
        after: { email, role: 'developer', expires_at: invitation.expires_at },
      }),
    ]);
  });

  it('on acceptance makes the member, audits member.invitation_accepted and member.added, and announces member.added', async () => {
    const owner = await seedOrg(harness.em());
    const { user, invitation, token, principal } = await invited(owner, Role.Developer);
    expect(await isMember(owner.orgId, user.id)).toBe(false);

    const added = await members.acceptInvitation(principal, token, { type: 'user', id: user.id, ip: null, userAgent: null });

    expect(await isMember(owner.orgId, user.id)).toBe(true);
    const after = { membership_id: added.id, email: user.email, role: 'developer' };
    expect(await auditRows(owner.orgId, 'member.invitation_accepted')).toEqual([
      expect.objectContaining({ actorId: user.id, targetType: 'invitation', targetId: invitation.id, after }),
    ]);
    expect(await auditRows(owner.orgId, 'member.added')).toEqual([
      expect.objectContaining({
        actorType: 'user',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        after: { ...after, invitation_id: invitation.id },
      }),
    ]);
    const events = await harness.em().find(OutboxEvent, { orgId: owner.orgId, type: EventType.MemberAdded });
    expect(events.map((event) => event.data)).toEqual([expect.objectContaining({ id: added.id, user_id: user.id, role: 'developer' })]);
    expect(events.flatMap(outboxEventErrors)).toEqual([]);
    const invitationRow = await harness.em().findOneOrFail(Invitation, { id: invitation.id });
    expect(invitationRow.status).toBe(InvitationState.Accepted);
  });

  it('refuses an expired invitation as not found and makes no member', async () => {
    const owner = await seedOrg(harness.em());
    const { user, invitation, token, principal } = await invited(owner, Role.Developer);
    await harness.em().nativeUpdate(Invitation, { id: invitation.id }, { expiresAt: new Date(Date.now() - 1000) });

    await expect(
      members.acceptInvitation(principal, token, { type: 'user', id: user.id, ip: null, userAgent: null }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await isMember(owner.orgId, user.id)).toBe(false);
    expect(await auditRows(owner.orgId, 'member.added')).toEqual([]);
  });

  it('audits member.role_changed with the role before and after, and announces it', async () => {
    const owner = await seedOrg(harness.em());
    const admin = await seedMember(harness.em(), owner.orgId, Role.Admin);
    const developer = await seedMember(harness.em(), owner.orgId, Role.Developer);

    await members.changeRole(admin.principal, developer.membershipId, Role.Admin, admin.actor);

    expect(await auditRows(owner.orgId, 'member.role_changed')).toEqual([
      expect.objectContaining({
        actorId: admin.userId,
        targetType: 'user',
        targetId: developer.userId,
        before: { membership_id: developer.membershipId, role: 'developer' },
        after: { membership_id: developer.membershipId, role: 'admin' },
      }),
    ]);
    const events = await harness.em().find(OutboxEvent, { orgId: owner.orgId, type: EventType.MemberRoleChanged });
    expect(events.map((event) => event.data)).toEqual([expect.objectContaining({ role: 'admin', previous_role: 'developer' })]);
    expect(events.flatMap(outboxEventErrors)).toEqual([]);
  });

  it('writes no audit row and no event when the role does not change', async () => {
    const owner = await seedOrg(harness.em());
    const developer = await seedMember(harness.em(), owner.orgId, Role.Developer);

    const answer = await members.changeRole(owner.principal, developer.membershipId, Role.Developer, owner.actor);

    expect(answer.role).toBe('developer');
    expect(await auditRows(owner.orgId, 'member.role_changed')).toEqual([]);
    expect(await harness.em().count(OutboxEvent, { orgId: owner.orgId, type: EventType.MemberRoleChanged })).toBe(0);
  });

  it('keeps the only owner, writing no audit row, when they try to step down or leave', async () => {
    const owner = await seedOrg(harness.em());

    await expect(members.changeRole(owner.principal, owner.membershipId, Role.Admin, owner.actor)).rejects.toMatchObject({
      code: 'LAST_OWNER',
    });
    await expect(members.removeMember(owner.principal, owner.membershipId, owner.actor)).rejects.toMatchObject({ code: 'LAST_OWNER' });

    expect(await ownerCount(owner.orgId)).toBe(1);
    expect(await auditRows(owner.orgId, 'member.removed')).toEqual([]);
    expect(await auditRows(owner.orgId, 'member.role_changed')).toEqual([]);
  });

  it('never leaves the organisation ownerless when two owners demote each other at once', async () => {
    const first = await seedOrg(harness.em());
    const second = await seedMember(harness.em(), first.orgId, Role.Owner);

    const outcomes = await Promise.allSettled([
      members.changeRole(first.principal, second.membershipId, Role.Admin, first.actor),
      members.changeRole(second.principal, first.membershipId, Role.Admin, second.actor),
    ]);

    // The lock serialises them: the second runs by a caller who is no longer an owner.
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: { code: 'INSUFFICIENT_ROLE' } });
    expect(await ownerCount(first.orgId)).toBe(1);
    expect(await auditRows(first.orgId, 'member.role_changed')).toHaveLength(1);
  });

  it('never leaves the organisation ownerless when two owners leave at once', async () => {
    const first = await seedOrg(harness.em());
    const second = await seedMember(harness.em(), first.orgId, Role.Owner);

    const outcomes = await Promise.allSettled([
      members.removeMember(first.principal, first.membershipId, first.actor),
      members.removeMember(second.principal, second.membershipId, second.actor),
    ]);

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: { code: 'LAST_OWNER' } });
    expect(await ownerCount(first.orgId)).toBe(1);
  });

  it("audits member.removed with what the membership was, and revokes the member's sessions in that organisation only", async () => {
    const owner = await seedOrg(harness.em());
    const elsewhere = await seedOrg(harness.em(), 'their own org');
    const em = harness.em();
    const member = await seedMember(em, owner.orgId, Role.Developer, await em.findOneOrFail(User, { id: elsewhere.userId }));

    await members.removeMember(owner.principal, member.membershipId, owner.actor);

    expect(await auditRows(owner.orgId, 'member.removed')).toEqual([
      expect.objectContaining({
        actorId: owner.userId,
        targetType: 'user',
        targetId: member.userId,
        before: { membership_id: member.membershipId, email: member.email, role: 'developer' },
        after: null,
      }),
    ]);
    const removedSession = await harness.em().findOneOrFail(Session, { id: member.principal.sessionId });
    expect(removedSession.revokedAt).toBeInstanceOf(Date);
    const ownOrgSession = await harness.em().findOneOrFail(Session, { id: elsewhere.principal.sessionId });
    expect(ownOrgSession.revokedAt).toBeNull();
    expect(await harness.em().count(OutboxEvent, { orgId: owner.orgId, type: EventType.MemberRemoved })).toBe(1);
    expect(
      (await harness.em().find(OutboxEvent, { orgId: owner.orgId, type: EventType.MemberRemoved })).flatMap(outboxEventErrors),
    ).toEqual([]);
  });

  it('lets a member leave, audited as their own act', async () => {
    const owner = await seedOrg(harness.em());
    const viewer = await seedMember(harness.em(), owner.orgId, Role.Viewer);

    await members.removeMember(viewer.principal, viewer.membershipId, viewer.actor);

    expect(await auditRows(owner.orgId, 'member.removed')).toEqual([
      expect.objectContaining({
        actorId: viewer.userId,
        targetId: viewer.userId,
        before: { membership_id: viewer.membershipId, email: viewer.email, role: 'viewer' },
      }),
    ]);
  });

  it('audits member.invitation_revoked and forgets the token', async () => {
    const owner = await seedOrg(harness.em());
    const email = `revoked-${Date.now()}@example.com`;
    const invitation = await members.addMember(owner.principal, { email, role: Role.Developer }, owner.actor);

    await members.revokeInvitation(owner.principal, invitation.id, owner.actor);

    expect(await auditRows(owner.orgId, 'member.invitation_revoked')).toEqual([
      expect.objectContaining({
        actorId: owner.userId,
        targetType: 'invitation',
        targetId: invitation.id,
        before: { email, role: 'developer' },
      }),
    ]);
    const row = await harness.em().findOneOrFail(Invitation, { id: invitation.id }, { fields: ['status', 'tokenHash', 'respondedAt'] });
    expect(row).toMatchObject({ status: InvitationState.Revoked, tokenHash: null, respondedAt: expect.any(Date) });
  });
});
