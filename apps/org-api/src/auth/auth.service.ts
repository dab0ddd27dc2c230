import { setTimeout as sleep } from 'node:timers/promises';

import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import * as argon2 from 'argon2';

import { newSessionToken } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { Role } from '@latchkey/contracts';
import { ActorType, Membership, Organization, Session, User, UserToken, UserTokenPurpose } from '@latchkey/db';
import { MailerService, oneLine } from '@latchkey/mailer';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

import { hashMailToken, newMailToken } from '../members/mail-token';
import { LoginThrottleService } from '../throttle/login-throttle.service';
import { SessionResponseDto, UserResponseDto } from './dto/session-response.dto';

/** argon2id with OWASP's second recommended profile (19 MiB, 2 passes). */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const VERIFICATION_TTL_MS = 24 * 3_600_000;
const PASSWORD_RESET_TTL_MS = 3_600_000;

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

/** Unused and not expired. */
function isLive(token: UserToken | null): token is UserToken {
  return token !== null && !token.usedAt && token.expiresAt > new Date();
}

function invalidResetToken(): AppError {
  return AppError.validation('This reset link is invalid, used or expired; ask for a new one.', [
    { field: 'token', message: 'invalid or expired' },
  ]);
}

@Injectable()
export class AuthService implements OnModuleDestroy {
  /** Verified against when the email is unknown, so both paths take the same time. */
  private readonly dummyHash = argon2.hash('latchkey-timing-equaliser', ARGON2_OPTIONS);

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottleService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
    private readonly mailer: MailerService,
  ) {}

  private readonly logger = new Logger(AuthService.name);
  private readonly pendingMail = new Set<Promise<void>>();

  async signup(input: SignupInput, actor: AuditActor): Promise<SessionResponseDto> {
    // Every signup counts, not only failures: a flood of accounts (and of mails) is the abuse here.
    await this.throttle.begin(input.email, actor.ip ?? 'unknown', 'signup');
    const passwordHash = await argon2.hash(input.password, ARGON2_OPTIONS);
    const created = await this.em.transactional(async (em) => {
      if (await em.count(User, { email: input.email })) {
        throw new AppError('EMAIL_TAKEN', 'An account with this email already exists; log in instead.');
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
      // Invitations to this address are NOT joined here: owning the address is proven by the
      // verification link, and joining is the user's choice (POST /v1/invitations/accept).
      // Sessions and tokens name the user by a plain id column: the user row goes first.
      await em.flush();
      const verification = this.issueVerification(em, user);
      const { token, session } = this.openSession(em, user.id, org.id, actor);
      await em.flush();
      return { answer: SessionResponseDto.from(user, org, Role.Owner, session.expiresAt, token), user, verification };
    });
    await this.mailVerification(created.user, created.verification);
    return created.answer;
  }

  /**
   * Spends a verification token for the signed-in user: their email counts as verified
   * from now on. A token of another account is refused like an unknown one: someone who
   * signed up with a victim's address cannot have the victim verify it by clicking.
   */
  async verifyEmail(userId: string, token: string): Promise<UserResponseDto> {
    return this.em.transactional(async (em) => {
      const found = await em.findOne(
        UserToken,
        { tokenHash: hashMailToken(token), purpose: UserTokenPurpose.VerifyEmail },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      // Unknown, used and expired tokens get the same answer: a guess learns nothing.
      if (!found || found.userId !== userId || found.usedAt || found.expiresAt <= new Date()) {
        throw AppError.validation(
          'This verification link is invalid, used, expired or for another account; log in as that account or ask for a new one.',
          [{ field: 'token', message: 'invalid or expired' }],
        );
      }
      found.usedAt = new Date();
      const user = await em.findOneOrFail(User, { id: found.userId });
      user.emailVerifiedAt ??= new Date();
      await em.flush();
      return UserResponseDto.from(user);
    });
  }

  /**
   * Mails a single-use reset link (1 h) when the address has an account. The caller
   * cannot tell whether it has: the same answer either way, throttled per address and
   * email, and at the same moment — the lookup, the token and the mail (which takes as
   * long as the SMTP server does) run after the answer, so its timing says nothing either.
   */
  async requestPasswordReset(email: string, actor: AuditActor): Promise<void> {
    await this.throttle.begin(email, actor.ip ?? 'unknown', 'password-reset');
    this.afterAnswer(() => this.mailPasswordReset(email));
  }

  private async mailPasswordReset(email: string): Promise<void> {
    const em = this.em.fork();
    const user = await em.findOne(User, { email });
    if (!user) return;
    const { token, hash } = newMailToken('lkr_');
    em.create(UserToken, {
      userId: user.id,
      purpose: UserTokenPurpose.PasswordReset,
      tokenHash: hash,
      expiresAt: new Date(Date.now() + PASSWORD_RESET_TTL_MS),
    });
    await em.flush();
    const link = `${this.config.get('PUBLIC_BASE_URL')}/console/reset-password?token=${encodeURIComponent(token)}`;
    await this.mailer.send({
      to: user.email,
      subject: 'Reset your Latchkey password',
      text:
        `Someone asked to reset the password of this Latchkey account. To choose a new one, open:\n${link}\n\n` +
        'The link works once, for 1 hour. If it was not you, ignore this mail; your password is unchanged.\n',
    });
  }

  /** Work the answer must not wait for; a shutdown waits for it (onModuleDestroy). */
  private afterAnswer(work: () => Promise<void>): void {
    const task = work()
      .catch((error: unknown) => this.logger.warn({ msg: 'password reset mail failed; the user can ask again', err: error }))
      .finally(() => this.pendingMail.delete(task));
    this.pendingMail.add(task);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.pendingMail);
  }

  /** Spends a reset token: sets the password and ends every session of the user. */
  async confirmPasswordReset(token: string, password: string): Promise<void> {
    const where = { tokenHash: hashMailToken(token), purpose: UserTokenPurpose.PasswordReset };
    // A token that cannot be right is refused before argon2 runs: 19 MiB and tens of
    // milliseconds per guess would make this public route a cheap way to load the server.
    if (!isLive(await this.em.fork().findOne(UserToken, where))) throw invalidResetToken();
    const passwordHash = await argon2.hash(password, ARGON2_OPTIONS);
    await this.em.transactional(async (em) => {
      // Again under the lock: a parallel confirm may have spent it meanwhile.
      const found = await em.findOne(UserToken, where, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!found || !isLive(found)) throw invalidResetToken();
      found.usedAt = new Date();
      await em.nativeUpdate(User, { id: found.userId }, { passwordHash });
      // Whoever knew the old password may hold a session: none survives the reset.
      await em.nativeUpdate(Session, { userId: found.userId, revokedAt: null }, { revokedAt: new Date() });
      // Other reset links mailed before are spent too.
      await em.nativeUpdate(
        UserToken,
        { userId: found.userId, purpose: UserTokenPurpose.PasswordReset, usedAt: null },
        { usedAt: new Date() },
      );
      await em.flush();
    });
  }

  /** Mails the caller a fresh verification link; 409 when the address is already verified. */
  async resendVerification(userId: string, actor: AuditActor): Promise<void> {
    const user = await this.em.findOneOrFail(User, { id: userId });
    if (user.emailVerifiedAt) throw new AppError('EMAIL_ALREADY_VERIFIED', 'This email address is already verified.');
    // An account can be opened with someone else's address: unthrottled, this would mail-bomb them.
    await this.throttle.begin(user.email, actor.ip ?? 'unknown', 'verification-resend');
    const token = this.issueVerification(this.em, user);
    await this.em.flush();
    await this.mailVerification(user, token);
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
    if (!first) throw new AppError('NO_ORGANIZATION', 'This account belongs to no organisation any more.');
    return first;
  }

  /** A new single-use verification token for the user; earlier unused ones stay valid until they expire. */
  private issueVerification(em: EntityManager, user: User): string {
    const { token, hash } = newMailToken('lkv_');
    em.create(UserToken, {
      userId: user.id,
      purpose: UserTokenPurpose.VerifyEmail,
      tokenHash: hash,
      expiresAt: new Date(Date.now() + VERIFICATION_TTL_MS),
    });
    return token;
  }

  /** After the commit: a mail failure must not undo the signup (the user can ask for another). */
  private async mailVerification(user: User, token: string): Promise<void> {
    const link = `${this.config.get('PUBLIC_BASE_URL')}/console/verify-email?token=${encodeURIComponent(token)}`;
    try {
      await this.mailer.send({
        to: user.email,
        subject: 'Verify your email address for Latchkey',
        text:
          `Hello ${oneLine(user.name)},\n\nConfirm that this address is yours by opening:\n${link}\n\n` +
          'The link works once, for 24 hours. If you did not sign up for Latchkey, ignore this mail.\n',
      });
    } catch (error) {
      this.logger.warn({ msg: 'verification mail failed; the user can resend it', user_id: user.id, err: error });
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
