import { randomBytes } from 'node:crypto';

import { EntityManager } from '@mikro-orm/postgresql';

import { UserPrincipal } from '@latchkey/access';
import { AuditActor } from '@latchkey/audit';
import { Role } from '@latchkey/contracts';
import { ActorType, Membership, Organization, Session, User } from '@latchkey/db';

/** A user's membership as a service sees it: the principal the access guard builds and the audit actor. */
export interface SeededMember {
  userId: string;
  orgId: string;
  email: string;
  membershipId: string;
  role: Role;
  principal: UserPrincipal;
  actor: AuditActor;
}

/**
 * Rows for integration specs, written straight to the database: what signup and an
 * accepted invitation would leave, without going through the HTTP API that the e2e
 * tier tests. Passwords are never checked below HTTP, so the hash is a placeholder.
 */
export async function seedUser(em: EntityManager, options: { email?: string; verified?: boolean; name?: string } = {}): Promise<User> {
  const user = em.create(User, {
    email: options.email ?? `seeded-${randomBytes(6).toString('hex')}@example.com`,
    name: options.name ?? 'Seeded User',
    passwordHash: 'not-a-real-hash',
    emailVerifiedAt: options.verified === false ? null : new Date(),
  });
  await em.flush();
  return user;
}

/** A new organisation and its owner. */
export async function seedOrg(em: EntityManager, name = 'Seeded Org'): Promise<SeededMember> {
  const org = em.create(Organization, { name });
  await em.flush();
  return seedMember(em, org.id, Role.Owner);
}

/** A member of `orgId` with `role`: a new user unless one is given. */
export async function seedMember(em: EntityManager, orgId: string, role: Role, user?: User): Promise<SeededMember> {
  const person = user ?? (await seedUser(em));
  const membership = em.create(Membership, { organization: orgId, user: person, role });
  const session = em.create(Session, {
    tokenHash: randomBytes(32).toString('hex'),
    userId: person.id,
    orgId,
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  await em.flush();
  return {
    userId: person.id,
    orgId,
    email: person.email,
    membershipId: membership.id,
    role,
    principal: { kind: 'user', userId: person.id, orgId, role, sessionId: session.id },
    actor: { type: ActorType.User, id: person.id, ip: null, userAgent: null },
  };
}
