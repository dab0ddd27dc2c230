import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { setTimeout as sleep } from 'node:timers/promises';

import { newSessionToken } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { EventType } from '@latchkey/contracts';
import { ActorType, Invitation, Membership, Organization, Role, Session, User } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

import { SessionResponseDto } from './dto/session-response.dto';
import { MemberResponseDto } from '../members/dto/member-response.dto';
import { LoginThrottleService } from './login-throttle.service';

/** argon2id with OWASP's second recommended profile (19 MiB, 2 passes). */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface SignupInput {
  email: string;
  password: string;
  name: string;
  orgName: string;
}

export interface LoginInput {
  email: string;
  password: string;
  orgId?: string;
}

@Injectable()
export class AuthService {
  /** Verified against when the email is unknown, so both paths take the same time. */
  private readonly dummyHash = argon2.hash('latchkey-timing-equaliser', ARGON2_OPTIONS);

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottleService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  async signup(input: SignupInput, actor: AuditActor): Promise<SessionResponseDto> {
    const passwordHash = await argon2.hash(input.password, ARGON2_OPTIONS);
    return this.em.transactional(async (em) => {
      if (await em.count(User, { email: input.email })) {
        throw AppError.conflict('An account with this email already exists; log in instead.', 'EMAIL_TAKEN');
      }
      const user = em.create(User, { email: input.email, name: input.name, passwordHash });
      const org = em.create(Organization, { name: input.orgName });
      em.create(Membership, { organization: org, user, role: Role.Owner });
      const userActor: AuditActor = { ...actor, type: ActorType.User, id: user.id };
      this.audit.record(em, {
        orgId: org.id,
        actor: userActor,
        action: 'org.created',
        target: { type: 'org', id: org.id },
        after: { name: org.name },
      });
      this.audit.record(em, {
        orgId: org.id,
        actor: userActor,
        action: 'member.added',
        target: { type: 'user', id: user.id },
        after: { email: user.email, role: Role.Owner },
      });
      await this.acceptInvitations(em, user, userActor);
      await em.flush();
      const { token, session } = this.openSession(em, user.id, org.id, actor);
      await em.flush();
      return SessionResponseDto.from(user, org, Role.Owner, session.expiresAt, token);
    });
  }

  async login(input: LoginInput, actor: AuditActor): Promise<SessionResponseDto> {
    const attempt = await this.throttle.begin(input.email, actor.ip ?? 'unknown');
    const user = await this.em.findOne(User, { email: input.email }, { populate: ['passwordHash'] });
    const passwordOk = user
      ? await argon2.verify(user.passwordHash, input.password)
      : await argon2.verify(await this.dummyHash, input.password).then(() => false);
    if (!user || !passwordOk) {
      const delayMs = this.throttle.failureDelayMs(attempt);
      if (delayMs > 0) await sleep(delayMs);
      throw AppError.unauthenticated('Email or password is wrong.');
    }
    await this.throttle.succeeded(attempt);

    return this.em.transactional(async (em) => {
      await this.acceptInvitations(em, user, { ...actor, type: ActorType.User, id: user.id });
      await em.flush();
      const membership = await this.chooseMembership(em, user.id, input.orgId);
      const { token, session } = this.openSession(em, user.id, membership.organization.id, actor);
      await em.flush();
      return SessionResponseDto.from(user, membership.organization, membership.role, session.expiresAt, token);
    });
  }

  async logout(sessionId: string): Promise<void> {
    await this.em.nativeUpdate(Session, { id: sessionId, revokedAt: null }, { revokedAt: new Date() });
  }

  /** Moves the session to another organisation the user belongs to; another org's id is a 404. */
  async switchOrg(sessionId: string, userId: string, orgId: string): Promise<SessionResponseDto> {
    const membership = await this.em.findOne(Membership, { user: userId, organization: orgId }, { populate: ['organization', 'user'] });
    if (!membership) throw AppError.notFound('Organization');
    const session = await this.em.findOne(Session, { id: sessionId, revokedAt: null });
    if (!session) throw AppError.unauthenticated('Invalid or expired session.');
    session.orgId = orgId;
    await this.em.flush();
    return SessionResponseDto.from(membership.user, membership.organization, membership.role, session.expiresAt);
  }

  async describeSession(sessionId: string, userId: string, orgId: string): Promise<SessionResponseDto> {
    // The membership or session may vanish between the guard and here (removed, logged out).
    const membership = await this.em.findOne(Membership, { user: userId, organization: orgId }, { populate: ['organization', 'user'] });
    const session = await this.em.findOne(Session, { id: sessionId, revokedAt: null });
    if (!membership || !session) throw AppError.unauthenticated('Invalid or expired session.');
    return SessionResponseDto.from(membership.user, membership.organization, membership.role, session.expiresAt);
  }

  private async chooseMembership(em: EntityManager, userId: string, orgId?: string): Promise<Membership> {
    if (orgId) {
      const chosen = await em.findOne(Membership, { user: userId, organization: orgId }, { populate: ['organization'] });
      if (!chosen) throw AppError.notFound('Organization');
      return chosen;
    }
    const first = await em.findOne(Membership, { user: userId }, { populate: ['organization'], orderBy: { id: 'asc' } });
    if (!first) throw AppError.forbidden('This account belongs to no organisation any more.', 'NO_ORGANIZATION');
    return first;
  }

  /** Pending invitations for this email become memberships. */
  private async acceptInvitations(em: EntityManager, user: User, actor: AuditActor): Promise<void> {
    const invitations = await em.find(Invitation, { email: user.email }, { populate: ['organization'] });
    for (const invitation of invitations) {
      const already = await em.count(Membership, { user, organization: invitation.organization });
      if (!already) {
        const membership = em.create(Membership, { organization: invitation.organization, user, role: invitation.role });
        this.outbox.add(em, {
          orgId: invitation.organization.id,
          type: EventType.MemberAdded,
          data: { ...MemberResponseDto.from(membership) },
        });
        this.audit.record(em, {
          orgId: invitation.organization.id,
          actor,
          action: 'member.added',
          target: { type: 'user', id: user.id },
          after: { email: user.email, role: invitation.role, invitation_id: invitation.id },
        });
      }
      em.remove(invitation);
    }
  }

  private openSession(em: EntityManager, userId: string, orgId: string, actor: AuditActor): { token: string; session: Session } {
    const { token, hash } = newSessionToken();
    const session = em.create(Session, {
      tokenHash: hash,
      userId,
      orgId,
      ip: actor.ip,
      userAgent: actor.userAgent,
      expiresAt: new Date(Date.now() + this.config.get('SESSION_TTL_HOURS') * 3_600_000),
    });
    return { token, session };
  }
}
