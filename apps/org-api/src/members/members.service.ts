import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { actingIdOf, OrgPrincipal, UserPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { EventType, Page, PageRequest, Role, ROLES } from '@latchkey/contracts';
import { findPage, Invitation, InvitationState, ManagementKey, Membership, Organization, Session, User } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { MailerService, oneLine } from '@latchkey/mailer';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

import { ManagementKeyResponseDto } from '../management-keys/dto/management-key-response.dto';
import { LoginThrottleService } from '../throttle/login-throttle.service';
import { InvitationResponseDto } from './dto/invitation-response.dto';
import { MemberResponseDto } from './dto/member-response.dto';
import { hashMailToken, newMailToken } from './mail-token';
import { assertMemberChangeAllowed } from './member-policy';

export interface AddMemberInput {
  /** Already lower-cased and trimmed. */
  email: string;
  role: Role;
}

/** Why a creator's management keys were revoked with a member change (the audit entry's `reason`). */
type KeyRevocationReason = 'creator_removed' | 'creator_role_lowered';

/** What a change runs with: the organisation, locked, and the caller's role as it is now. */
interface ChangeContext {
  em: EntityManager;
  org: Organization;
  actorRole: Role;
}

/**
 * Members and invitations of the caller's organisation. Every lookup is scoped to the
 * caller's organisation, so another tenant's id is simply not found. The caller is a
 * person's session or a management key acting with the key's role under the same rules
 * (docs/api-conventions.md#management-keys).
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly mailer: MailerService,
    private readonly config: AppConfig,
    private readonly throttle: LoginThrottleService,
  ) {}

  private readonly logger = new Logger(MembersService.name);

  async listMembers(principal: OrgPrincipal, page: PageRequest): Promise<Page<MemberResponseDto>> {
    const members = await findPage(this.em, Membership, { organization: principal.orgId }, page);
    await this.em.populate(members.items, ['user']);
    return members.map((membership) => MemberResponseDto.from(membership));
  }

  /**
   * Always an invitation, mailed with a single-use token, whether or not the address has
   * an account: the answer is the same either way, so it reveals nothing about accounts,
   * and nobody joins an organisation without proving they own the address and agreeing.
   */
  async addMember(principal: OrgPrincipal, input: AddMemberInput, actor: AuditActor): Promise<InvitationResponseDto> {
    // Every invitation is a mail to an address of the inviter's choosing: counted per
    // address and per organisation, so an account cannot mail-bomb anyone through us.
    await this.throttle.begin(input.email, principal.orgId, 'invitation');
    const { invitation, token, orgName } = await this.change(principal, async ({ em, org, actorRole }) => {
      assertMemberChangeAllowed(actorRole, { kind: 'add', role: input.role });
      // Members are listed to every member, so saying this one already is leaks nothing new.
      if (await em.count(Membership, { organization: org, user: { email: input.email } })) {
        throw new AppError('ALREADY_MEMBER', 'This user is already a member of the organisation.');
      }
      const pending = await em.findOne(Invitation, { organization: org, email: input.email, status: InvitationState.Pending });
      if (pending && pending.expiresAt > new Date()) {
        throw new AppError('ALREADY_INVITED', 'This email already has a pending invitation; resend it instead.');
      }
      // An expired invitation no longer blocks a new one: it is closed as revoked.
      if (pending) pending.status = InvitationState.Revoked;
      const issued = newMailToken('lki_');
      const created = em.create(Invitation, {
        organization: org,
        email: input.email,
        role: input.role,
        invitedBy: actingIdOf(principal),
        tokenHash: issued.hash,
        expiresAt: this.invitationExpiry(),
      });
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invited',
        target: { type: 'invitation', id: created.id },
        after: { email: created.email, role: created.role, expires_at: created.expiresAt.toISOString() },
      });
      await em.flush();
      return { invitation: created, token: issued.token, orgName: org.name };
    });
    await this.mailInvitation(invitation, token, orgName);
    return InvitationResponseDto.from(invitation);
  }

  /** A fresh token and expiry for a pending invitation; the old token stops working. */
  async resendInvitation(principal: OrgPrincipal, invitationId: string, actor: AuditActor): Promise<InvitationResponseDto> {
    // Counted before the organisation's row is locked, as addMember does: no Redis wait under the lock.
    const addressed = isIdOf(IdPrefix.Invitation, invitationId)
      ? await this.em.fork().findOne(Invitation, { id: invitationId, organization: principal.orgId }, { fields: ['email'] })
      : null;
    if (addressed) await this.throttle.begin(addressed.email, principal.orgId, 'invitation');
    const { invitation, token, orgName } = await this.change(principal, async ({ em, org, actorRole }) => {
      const found = await this.findInvitation(em, org, invitationId);
      assertMemberChangeAllowed(actorRole, { kind: 'add', role: found.role });
      if (found.status !== InvitationState.Pending) {
        throw new AppError('INVITATION_CLOSED', `This invitation was ${found.status}; invite the address again instead.`);
      }
      const issued = newMailToken('lki_');
      found.tokenHash = issued.hash;
      found.expiresAt = this.invitationExpiry();
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invitation_resent',
        target: { type: 'invitation', id: found.id },
        after: { email: found.email, role: found.role, expires_at: found.expiresAt.toISOString() },
      });
      await em.flush();
      return { invitation: found, token: issued.token, orgName: org.name };
    });
    await this.mailInvitation(invitation, token, orgName);
    return InvitationResponseDto.from(invitation);
  }

  /** The caller's pending invitations, by their verified email only (an unverified one is not yet theirs). */
  async myInvitations(principal: UserPrincipal, page: PageRequest): Promise<Page<InvitationResponseDto>> {
    const user = await this.em.findOneOrFail(User, { id: principal.userId });
    if (!user.emailVerifiedAt) return new Page([], false, null);
    const filter = { email: user.email, status: InvitationState.Pending, expiresAt: { $gt: new Date() } };
    const invitations = await findPage(this.em, Invitation, filter, page);
    return invitations.map((invitation) => InvitationResponseDto.from(invitation));
  }

  /**
   * Turns the invitation the token names into a membership of the caller, only when the
   * caller's email is verified and is the invited address, and the invitation is pending
   * and unexpired. The token is then spent (the invitation is no longer pending).
   */
  async acceptInvitation(principal: UserPrincipal, token: string, actor: AuditActor): Promise<MemberResponseDto> {
    return this.respond(principal, token, async (em, invitation, user) => {
      const org = invitation.organization;
      if (await em.count(Membership, { organization: org, user })) {
        throw new AppError('ALREADY_MEMBER', 'You are already a member of this organisation.');
      }
      invitation.status = InvitationState.Accepted;
      invitation.respondedAt = new Date();
      const membership = em.create(Membership, { organization: org, user, role: invitation.role });
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invitation_accepted',
        target: { type: 'invitation', id: invitation.id },
        after: { membership_id: membership.id, email: user.email, role: invitation.role },
      });
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.added',
        target: { type: 'user', id: user.id },
        after: { membership_id: membership.id, email: user.email, role: membership.role, invitation_id: invitation.id },
      });
      const added = MemberResponseDto.from(membership);
      this.outbox.add(em, { orgId: org.id, type: EventType.MemberAdded, data: { ...added } });
      await em.flush();
      return added;
    });
  }

  async declineInvitation(principal: UserPrincipal, token: string, actor: AuditActor): Promise<InvitationResponseDto> {
    return this.respond(principal, token, async (em, invitation, user) => {
      invitation.status = InvitationState.Declined;
      invitation.respondedAt = new Date();
      this.audit.record(em, {
        orgId: invitation.organization.id,
        actor,
        action: 'member.invitation_declined',
        target: { type: 'invitation', id: invitation.id },
        before: { email: user.email, role: invitation.role },
      });
      await em.flush();
      return InvitationResponseDto.from(invitation);
    });
  }

  async changeRole(principal: OrgPrincipal, membershipId: string, role: Role, actor: AuditActor): Promise<MemberResponseDto> {
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
      // A key is never stronger than its creator: lowering a member revokes their keys above the new role.
      await this.revokeKeysOf(em, org, target.user.id, 'creator_role_lowered', actor, role);
      const changed = MemberResponseDto.from(target);
      this.outbox.add(em, { orgId: org.id, type: EventType.MemberRoleChanged, data: { ...changed, previous_role: before } });
      await em.flush();
      return changed;
    });
  }

  /** Removes a member, or lets the caller leave. Answers the membership as it was. */
  async removeMember(principal: OrgPrincipal, membershipId: string, actor: AuditActor): Promise<MemberResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      const target = await this.findMembership(em, org, membershipId);
      assertMemberChangeAllowed(actorRole, {
        kind: 'remove',
        role: target.role,
        self: principal.kind === 'user' && target.user.id === principal.userId,
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
      // Their management keys go with them: a key must not outlive its creator's membership.
      await this.revokeKeysOf(em, org, target.user.id, 'creator_removed', actor);
      await em.flush();
      return removed;
    });
  }

  async listInvitations(principal: OrgPrincipal, page: PageRequest): Promise<Page<InvitationResponseDto>> {
    // Open invitations only (expired ones included, shown as such): answered ones live on in the audit log.
    const invitations = await findPage(this.em, Invitation, { organization: principal.orgId, status: InvitationState.Pending }, page);
    return invitations.map((invitation) => InvitationResponseDto.from(invitation));
  }

  async revokeInvitation(principal: OrgPrincipal, invitationId: string, actor: AuditActor): Promise<InvitationResponseDto> {
    return this.change(principal, async ({ em, org, actorRole }) => {
      const invitation = await this.findInvitation(em, org, invitationId);
      assertMemberChangeAllowed(actorRole, { kind: 'revoke_invitation', role: invitation.role });
      if (invitation.status !== InvitationState.Pending) {
        throw new AppError('INVITATION_CLOSED', `This invitation was already ${invitation.status}.`);
      }
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'member.invitation_revoked',
        target: { type: 'invitation', id: invitation.id },
        before: { email: invitation.email, role: invitation.role },
      });
      invitation.status = InvitationState.Revoked;
      invitation.respondedAt = new Date();
      // The token dies with the revocation, not only by status.
      invitation.tokenHash = null;
      await em.flush();
      return InvitationResponseDto.from(invitation);
    });
  }

  /**
   * Runs a change with the organisation's row locked, so changes to one organisation's
   * members are serialised: two owners demoting each other cannot leave it ownerless,
   * and the same email added twice is a 409, not a unique-index error. The caller's
   * role is read again under the lock: the one the guard saw may have just changed, and
   * a management key may have just been revoked (with its creator's removal, say).
   */
  private change<T>(principal: OrgPrincipal, work: (context: ChangeContext) => Promise<T>): Promise<T> {
    return this.em.transactional(async (em) => {
      const org = await em.findOne(Organization, { id: principal.orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const actorRole = org ? await this.actorRole(em, org, principal) : null;
      if (!org || !actorRole) {
        throw AppError.unauthenticated(
          principal.kind === 'user' ? 'Invalid or expired session.' : 'Invalid, revoked or expired management key.',
        );
      }
      return work({ em, org, actorRole });
    });
  }

  /** A person's role is their membership's; a key's is its own, while it is neither revoked nor expired. */
  private async actorRole(em: EntityManager, org: Organization, principal: OrgPrincipal): Promise<Role | null> {
    if (principal.kind === 'user') return (await em.findOne(Membership, { organization: org, user: principal.userId }))?.role ?? null;
    const key = await em.findOne(ManagementKey, { id: principal.keyId, organization: org, revokedAt: null });
    if (!key || (key.expiresAt !== null && key.expiresAt <= new Date())) return null;
    return key.role;
  }

  /**
   * Revokes, in the caller's transaction, the live management keys the user created in
   * this organisation: all of them (`below` left out), or those stronger than `below`.
   * Each is audited as `management_key.revoked` with the reason, by the change's actor.
   */
  private async revokeKeysOf(
    em: EntityManager,
    org: Organization,
    userId: string,
    reason: KeyRevocationReason,
    actor: AuditActor,
    below?: Role,
  ): Promise<void> {
    const keys = await em.find(
      ManagementKey,
      { organization: org, createdBy: userId, revokedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
    );
    const now = new Date();
    for (const key of keys) {
      if (below !== undefined && ROLES.indexOf(key.role) >= ROLES.indexOf(below)) continue;
      const before = ManagementKeyResponseDto.from(key, now);
      key.revokedAt = now;
      this.audit.record(em, {
        orgId: org.id,
        actor,
        action: 'management_key.revoked',
        target: { type: 'management_key', id: key.id },
        before,
        after: { ...ManagementKeyResponseDto.from(key, now), reason },
      });
    }
  }

  private async findInvitation(em: EntityManager, org: Organization, invitationId: string): Promise<Invitation> {
    const invitation = isIdOf(IdPrefix.Invitation, invitationId)
      ? await em.findOne(Invitation, { id: invitationId, organization: org })
      : null;
    if (!invitation) throw AppError.notFound('Invitation');
    return invitation;
  }

  /**
   * Finds the invitation by its token's hash, locked, and checks it may be answered by
   * the caller. Every refusal about the token itself is the same 404, so a guessed or
   * stolen token tells nothing; a wrong or unverified address is a 403 saying what to do.
   */
  private respond<T>(
    principal: UserPrincipal,
    token: string,
    work: (em: EntityManager, invitation: Invitation, user: User) => Promise<T>,
  ): Promise<T> {
    return this.em.transactional(async (em) => {
      const tokenHash = hashMailToken(token);
      const seen = await em.findOne(Invitation, { tokenHash });
      if (!seen) throw AppError.notFound('Invitation');
      // Locks in the order every member change takes them (change(): the organisation,
      // then its rows), or an accept racing a revoke or resend deadlocks.
      await em.findOne(Organization, { id: seen.organization.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const invitation = await em.findOne(
        Invitation,
        { id: seen.id },
        { populate: ['organization'], lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      // Under the lock again: a resend may have replaced the token, a revoke closed it.
      if (
        !invitation ||
        invitation.tokenHash !== tokenHash ||
        invitation.status !== InvitationState.Pending ||
        invitation.expiresAt <= new Date()
      ) {
        throw AppError.notFound('Invitation');
      }
      const user = await em.findOneOrFail(User, { id: principal.userId });
      if (!user.emailVerifiedAt) {
        throw new AppError('EMAIL_NOT_VERIFIED', 'Verify your email address before answering invitations.');
      }
      if (user.email !== invitation.email) {
        throw new AppError('INVITATION_EMAIL_MISMATCH', 'This invitation was sent to another email address.');
      }
      return work(em, invitation, user);
    });
  }

  private invitationExpiry(): Date {
    return new Date(Date.now() + this.config.get('INVITATION_TTL_DAYS') * 86_400_000);
  }

  /** After the commit: a mail failure must not undo the invitation (the admin can resend). */
  private async mailInvitation(invitation: Invitation, token: string, storedOrgName: string): Promise<void> {
    const orgName = oneLine(storedOrgName);
    const link = `${this.config.get('PUBLIC_BASE_URL')}/console/invitations/accept?token=${encodeURIComponent(token)}`;
    try {
      await this.mailer.send({
        to: invitation.email,
        subject: `You are invited to ${orgName} on Latchkey`,
        text:
          `You have been invited to join ${orgName} on Latchkey as ${invitation.role}.\n\n` +
          `Accept (log in or sign up with this address first, and verify it):\n${link}\n\n` +
          `The invitation expires at ${invitation.expiresAt.toISOString()}. If you did not expect it, ignore this mail.\n`,
      });
    } catch (error) {
      this.logger.warn({ msg: 'invitation mail failed; the admin can resend it', invitation_id: invitation.id, err: error });
    }
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
