import { randomBytes } from 'node:crypto';

import { MikroORM } from '@mikro-orm/core';

import { generateApiKey, hmacSha256Hex } from '@latchkey/crypto';
import { ApiKey, Organization } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import { TestApp } from './create-test-app';
import { mailbox, tokenFromMail } from './mailbox';

export interface UserSession {
  token: string;
  userId: string;
  orgId: string;
  email: string;
  password: string;
  role: string;
}

let counter = 0;

export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * Signs a new user up with a new organisation; the user is its owner. The address is
 * verified with the mailed link unless `verify: false`.
 */
export async function signUp(
  app: TestApp,
  options: { email?: string; orgName?: string; name?: string; verify?: boolean } = {},
): Promise<UserSession> {
  const email = options.email ?? uniqueEmail('owner');
  const mails = mailbox(app);
  const response = await app.post('/v1/auth/signup', {
    body: { email, password: TEST_PASSWORD, name: options.name ?? 'Test User', org_name: options.orgName ?? 'Test Org' },
  });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${response.text}`);
  const data = response.body.data;
  if (options.verify !== false) {
    const verified = await app.post('/v1/auth/verify-email', {
      token: data.token,
      body: { token: tokenFromMail(mails, email, '/console/verify-email') },
    });
    if (verified.status !== 200) throw new Error(`verification failed: ${verified.status} ${verified.text}`);
  }
  return { token: data.token, userId: data.user.id, orgId: data.org.id, email, password: TEST_PASSWORD, role: data.role };
}

/**
 * Invites `person` (verified) to `inviter`'s organisation and accepts with the mailed
 * token, as the person would. Answers the new membership's id.
 */
export async function inviteAndAccept(app: TestApp, inviter: UserSession, person: UserSession, role: string): Promise<string> {
  const mails = mailbox(app);
  const invited = await app.post('/v1/members', { token: inviter.token, body: { email: person.email, role } });
  if (invited.status !== 201) throw new Error(`inviting as ${role} failed: ${invited.status} ${invited.text}`);
  const token = tokenFromMail(mails, person.email, '/console/invitations/accept');
  const accepted = await app.post('/v1/invitations/accept', { token: person.token, body: { token } });
  if (accepted.status !== 201) throw new Error(`accepting as ${role} failed: ${accepted.status} ${accepted.text}`);
  return accepted.body.data.id as string;
}

export async function logIn(app: TestApp, email: string, password = TEST_PASSWORD, orgId?: string): Promise<UserSession> {
  const response = await app.post('/v1/auth/login', { body: { email, password, ...(orgId ? { org_id: orgId } : {}) } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  const data = response.body.data;
  return { token: data.token, userId: data.user.id, orgId: data.org.id, email, password, role: data.role };
}

/**
 * An organisation with one member of each role, each with a live session in it.
 * Members are invited by the owner and accept, through the API, as real people would.
 */
export async function orgWithEveryRole(app: TestApp): Promise<Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>> {
  const owner = await signUp(app);
  const sessions: Record<string, UserSession> = { owner };
  for (const role of ['admin', 'developer', 'viewer'] as const) {
    const person = await signUp(app, { orgName: `${role}'s own org` });
    await inviteAndAccept(app, owner, person, role);
    sessions[role] = await logIn(app, person.email, TEST_PASSWORD, owner.orgId);
  }
  return sessions;
}

export interface InsertedApiKey {
  key: ApiKey;
  secret: string;
  /** What the key is stored and found by: the HMAC of `secret` under KEY_HASH_SECRET. */
  hash: string;
}

/**
 * Writes an api_keys row straight to Postgres, as the key service stores one (only the
 * HMAC of its secret): for what the API cannot make, such as past dates or a row seen
 * only by a fallback path. `fields` override anything, the organisation must exist.
 */
export async function insertApiKey(app: TestApp, orgId: string, fields: Partial<ApiKey> = {}): Promise<InsertedApiKey> {
  const environment = fields.environment ?? 'test';
  const secret = generateApiKey(environment);
  const hash = hmacSha256Hex(app.config.KEY_HASH_SECRET, secret);
  const em = app.app.get(MikroORM).em.fork();
  const key = em.create(ApiKey, {
    organization: em.getReference(Organization, orgId),
    environment,
    name: 'inserted test key',
    prefix: `sk_${environment}_`,
    last4: secret.slice(-4),
    secretHash: hash,
    createdBy: newId(IdPrefix.User),
    ...fields,
  });
  await em.flush();
  return { key, secret, hash };
}
