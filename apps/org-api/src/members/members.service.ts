import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { UserPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { EventType } from '@latchkey/contracts';
import { findPage, IdPrefix, Invitation, isIdOf, Membership, Organization, Page, PageRequest, Role, Session, User } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

import { InvitationResponseDto, InvitationStatus } from './dto/invitation-response.dto';
import { MemberResponseDto } from './dto/member-response.dto';
import { assertMemberChangeAllowed } from './member-policy';

export interface AddMemberInput {
  /** Already lower-cased and trimmed. */
  email: string;
  role: Role;
}

/** What a change runs with: the organisation, locked, and the caller's role as it is now. */
interface ChangeContext {
  em: EntityManager;
  org: Organization;
  actorRole: Role;
}

/**
 * Members and pending invitations of the caller's organisation. Every lookup is
 * scoped to the session's organisation, so another tenant's id is simply not found.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
  ) {}

  async listMembers(principal: UserPrincipal, page: PageRequest): Promise<Page<MemberResponseDto>> {
    const members = await findPage(this.em, Membership, { organization: principal.orgId }, page);
    await this.em.populate(members.items, ['user']);
    return members.map((membership) => MemberResponseDto.from(membership));
  }

  /** An email with an account becomes a member at once; any other email gets a pending invitation. */
  async addMember(principal: UserPrincipal, input: AddMemberInput, actor: AuditActor): Promise<MemberResponseDto | InvitationResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      assertMemberChangeAllowed(actorRole, { kind: 'add', role: input.role });
      const user = await em.findOne(User, { email: input.email });
      if (user) {
        if (await em.count(Membership, { organization: org, user })) {
          throw AppError.conflict('This user is already a member of the organisation.', 'ALREADY_MEMBER');
        }
        const membership = em.create(Membership, { organization: org, user, role: input.role });
        this.audit.record(em, {
          orgId: org.id,
          actor,
          action: 'member.added',
          target: { type: 'user', id: user.id },
          after: { membership_id: membership.id, email: user.email, role: membership.role },
        });
        const added = MemberResponseDto.from(membership);
        this.outbox.add(em, { orgId: org.id, type: EventType.MemberAdded, data: { ...added } });
        await em.flush();
        return added;
      }
      if (await em.count(Invitation, { organization: org, email: input.email })) {
        throw AppError.conflict('This email already has a pending invitation.', 'ALREADY_INVITED');
      }
      const invitation = em.create(Invitation, { organization: org, email: input.email, role: input.role, invitedBy: principal.userId });
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invited',
        target: { type: 'invitation', id: invitation.id },
        after: { email: invitation.email, role: invitation.role },
      });
      await em.flush();
      return InvitationResponseDto.from(invitation);
    });
  }

  async changeRole(principal: UserPrincipal, membershipId: string, role: Role, actor: AuditActor): Promise<MemberResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      const target = await this.findMembership(em, org, membershipId);
      assertMemberChangeAllowed(actorRole, {
        kind: 'change_role',
        from: target.role,
        to: role,
        targetIsLastOwner: await this.isLastOwner(em, target),
      });
      if (target.role === role) return MemberResponseDto.from(target);
      const before = target.role;
      target.role = role;
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.role_changed',
        target: { type: 'user', id: target.user.id },
        before: { membership_id: target.id, role: before },
        after: { membership_id: target.id, role },
      });
      const changed = MemberResponseDto.from(target);
      this.outbox.add(em, { orgId: org.id, type: EventType.MemberRoleChanged, data: { ...changed, previous_role: before } });
      await em.flush();
      return changed;
    });
  }

  /** Removes a member, or lets the caller leave. Answers the membership as it was. */
  async removeMember(principal: UserPrincipal, membershipId: string, actor: AuditActor): Promise<MemberResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      const target = await this.findMembership(em, org, membershipId);
      assertMemberChangeAllowed(actorRole, {
        kind: 'remove',
        role: target.role,
        self: target.user.id === principal.userId,
        targetIsLastOwner: await this.isLastOwner(em, target),
      });
      const removed = MemberResponseDto.from(target);
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.removed',
        target: { type: 'user', id: target.user.id },
        before: { membership_id: target.id, email: target.user.email, role: target.role },
      });
      this.outbox.add(em, { orgId: org.id, type: EventType.MemberRemoved, data: { ...removed } });
      em.remove(target);
      // The access guard already refuses sessions without a membership; revoking them
      // as well means an old token does not come back to life if the user is re-added.
      await em.nativeUpdate(Session, { userId: target.user.id, orgId: org.id, revokedAt: null }, { revokedAt: new Date() });
      await em.flush();
      return removed;
    });
  }

  async listInvitations(principal: UserPrincipal, page: PageRequest): Promise<Page<InvitationResponseDto>> {
    const invitations = await findPage(this.em, Invitation, { organization: principal.orgId }, page);
    return invitations.map((invitation) => InvitationResponseDto.from(invitation));
  }

  async revokeInvitation(principal: UserPrincipal, invitationId: string, actor: AuditActor): Promise<InvitationResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      const invitation = isIdOf(IdPrefix.Invitation, invitationId)
        ? await em.findOne(Invitation, { id: invitationId, organization: org })
        : null;
      if (!invitation) throw AppError.notFound('Invitation');
      assertMemberChangeAllowed(actorRole, { kind: 'revoke_invitation', role: invitation.role });
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invitation_revoked',
        target: { type: 'invitation', id: invitation.id },
        before: { email: invitation.email, role: invitation.role },
      });
      em.remove(invitation);
      await em.flush();
      return InvitationResponseDto.from(invitation, InvitationStatus.Revoked);
    });
  }

  /**
   * Runs a change with the organisation's row locked, so changes to one organisation's
   * members are serialised: two owners demoting each other cannot leave it ownerless,
   * and the same email added twice is a 409, not a unique-index error. The caller's
   * role is read again under the lock: the one the guard saw may have just changed.
   */
  private change<T>(principal: UserPrincipal, work: (context: ChangeContext) => Promise<T>): Promise<T> {
    return this.em.transactional(async (em) => {
      const org = await em.findOne(Organization, { id: principal.orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const actorMembership = org ? await em.findOne(Membership, { organization: org, user: principal.userId }) : null;
      if (!org || !actorMembership) throw AppError.unauthenticated('Invalid or expired session.');
      return work({ em, org, actorRole: actorMembership.role });
    });
  }

  private async findMembership(em: EntityManager, org: Organization, membershipId: string): Promise<Membership> {
    const membership = isIdOf(IdPrefix.Membership, membershipId)
      ? await em.findOne(Membership, { id: membershipId, organization: org }, { populate: ['user'] })
      : null;
    if (!membership) throw AppError.notFound('Member');
    return membership;
  }

  private async isLastOwner(em: EntityManager, membership: Membership): Promise<boolean> {
    if (membership.role !== Role.Owner) return false;
    return (await em.count(Membership, { organization: membership.organization, role: Role.Owner })) === 1;
  }
}
