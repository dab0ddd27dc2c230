import { TestApp } from '../../support/create-test-app';
import { signUp, uniqueEmail, UserSession } from '../../support/factories';
import { SmtpSink } from '../../support/smtp-sink';

const ACCEPT = '/console/invitations/accept';
const VERIFY = '/console/verify-email';

describe('Invitations need the invited, verified address', () => {
  let smtp: SmtpSink;
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    sut = await TestApp.start({ config: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://console.example.test', LOG_LEVEL: 'error' } });
    owner = await signUp(sut, { orgName: 'Inviting Org' });
  });

  afterAll(async () => {
    await sut.close();
    await smtp.close();
  });

  /** Whether `userId` is among the members the inviting owner sees. */
  const isMember = async (userId: string) => {
    const listed = await sut.get('/v1/members', { token: owner.token, query: { limit: '100' } });
    expect(listed.status).toBe(200);
    return (listed.body.data as { user_id: string }[]).some((member) => member.user_id === userId);
  };
  const invite = (email: string, role = 'admin', token = owner.token) => sut.post('/v1/members', { token, body: { email, role } });
  const accept = (session: UserSession, token: string) => sut.post('/v1/invitations/accept', { token: session.token, body: { token } });
  /** A user signed up, with the address verified through the link received over SMTP. */
  async function verifiedUser(email = uniqueEmail('person')): Promise<UserSession> {
    const person = await signUp(sut, { email, verify: false });
    const verified = await sut.post('/v1/auth/verify-email', { token: person.token, body: { token: smtp.token(email, VERIFY) } });
    expect(verified.status).toBe(200);
    expect(verified.body.data.email_verified_at).toEqual(expect.any(String));
    return person;
  }

  it('answers one shape for an address with an account and one without, and joins nobody', async () => {
    const existing = await verifiedUser();
    const unknown = uniqueEmail('nobody');

    const known = await invite(existing.email, 'developer');
    const other = await invite(unknown, 'developer');

    expect(known.status).toBe(201);
    expect(other.status).toBe(201);
    expect(Object.keys(known.body.data).sort()).toEqual(Object.keys(other.body.data).sort());
    expect(known.body.data).toMatchObject({ status: 'invited', role: 'developer', email: existing.email });
    expect(known.text).not.toContain('lki_');
    expect(await isMember(existing.userId)).toBe(false);
    // Both got a link on the configured console.
    expect(smtp.to(unknown).join('\n')).toContain(`https://console.example.test${ACCEPT}?token=`);
  });

  it('keeps an attacker who signs up with the invited address out until they verify it', async () => {
    const victim = uniqueEmail('victim');
    expect((await invite(victim, 'owner')).status).toBe(201);
    const invitationToken = smtp.token(victim, ACCEPT);

    // The attacker signs up with the address but never receives its verification mail.
    const attacker = await signUp(sut, { email: victim, verify: false });
    const refused = await accept(attacker, invitationToken);

    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('EMAIL_NOT_VERIFIED');
    expect(await isMember(attacker.userId)).toBe(false);
    const mine = await sut.get('/v1/me/invitations', { token: attacker.token });
    expect(mine.body.data).toEqual([]);
  });

  it('refuses the token to a verified user with another address', async () => {
    const invited = uniqueEmail('invited');
    await invite(invited, 'admin');
    const stranger = await verifiedUser();

    const refused = await accept(stranger, smtp.token(invited, ACCEPT));

    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('INVITATION_EMAIL_MISMATCH');
    expect(await isMember(stranger.userId)).toBe(false);
  });

  it('makes the invited verified user a member once, with the invited role', async () => {
    const person = await verifiedUser();
    await invite(person.email, 'viewer');
    const token = smtp.token(person.email, ACCEPT);
    const listed = await sut.get('/v1/me/invitations', { token: person.token });
    expect(listed.body.data.map((item: { org_id: string }) => item.org_id)).toEqual([owner.orgId]);

    const accepted = await accept(person, token);
    const again = await accept(person, token);

    expect(accepted.status).toBe(201);
    expect(accepted.body.data).toMatchObject({ user_id: person.userId, role: 'viewer' });
    expect(again.status).toBe(404);
    expect(await isMember(person.userId)).toBe(true);
  });

  it('kills a revoked invitation and the old token of a resent one', async () => {
    const revokedPerson = await verifiedUser();
    const revoked = await invite(revokedPerson.email, 'developer');
    const revokedToken = smtp.token(revokedPerson.email, ACCEPT);
    expect((await sut.delete(`/v1/members/invitations/${revoked.body.data.id}`, { token: owner.token })).body.data.status).toBe('revoked');
    expect((await accept(revokedPerson, revokedToken)).status).toBe(404);

    const resentPerson = await verifiedUser();
    const resent = await invite(resentPerson.email, 'developer');
    const oldToken = smtp.token(resentPerson.email, ACCEPT);
    expect((await sut.post(`/v1/members/invitations/${resent.body.data.id}/resend`, { token: owner.token })).status).toBe(200);
    const newToken = smtp.token(resentPerson.email, ACCEPT);
    expect(newToken).not.toBe(oldToken);
    expect((await accept(resentPerson, oldToken)).status).toBe(404);
    expect((await accept(resentPerson, newToken)).status).toBe(201);
  });

  it('lets the invited user decline, after which the token is dead', async () => {
    const person = await verifiedUser();
    await invite(person.email, 'developer');
    const token = smtp.token(person.email, ACCEPT);

    const declined = await sut.post('/v1/invitations/decline', { token: person.token, body: { token } });

    expect(declined.status).toBe(200);
    expect(declined.body.data.status).toBe('declined');
    expect((await accept(person, token)).status).toBe(404);
  });

  it('does not join invited organisations at signup any more', async () => {
    const email = uniqueEmail('early');
    await invite(email, 'admin');
    const person = await verifiedUser(email);
    expect(await isMember(person.userId)).toBe(false);
  });

  it('throttles invitation mails to one address with 429, resends included', async () => {
    const email = uniqueEmail('bombed');
    const first = await invite(email, 'developer');
    expect(first.status).toBe(201);
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push((await sut.post(`/v1/members/invitations/${first.body.data.id}/resend`, { token: owner.token })).status);
    }
    // LOGIN_MAX_FAILURES (5) mails per address in the window: the invitation and four resends.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(smtp.to(email)).toHaveLength(5);
  });

  it('throttles the invitations one organisation sends with 429', async () => {
    const limited = await TestApp.start({ config: { SMTP_URL: smtp.url, INVITATIONS_MAX_PER_ORG: '3', LOG_LEVEL: 'error' } });
    try {
      const inviter = await signUp(limited);
      const statuses: number[] = [];
      for (let index = 0; index < 4; index += 1) {
        const body = { email: uniqueEmail('many'), role: 'viewer' };
        statuses.push((await limited.post('/v1/members', { token: inviter.token, body })).status);
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
    } finally {
      await limited.close();
    }
  });

  it('answers an accept racing a revoke with a success or a 404, never a 500, and never both', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 12; round += 1) {
      const person = await verifiedUser();
      const invited = await invite(person.email, 'viewer');
      const token = smtp.token(person.email, ACCEPT);
      const [accepted, revoked] = await Promise.all([
        accept(person, token),
        sut.delete(`/v1/members/invitations/${invited.body.data.id}`, { token: owner.token }),
      ]);
      outcomes.push(`${accepted.status}/${revoked.status}`);
      // Exactly one of them wins: a member whose invitation was then revoked, or a revoked invitation nobody accepted.
      expect(['201/409', '404/200']).toContain(`${accepted.status}/${revoked.status}`);
      expect(await isMember(person.userId)).toBe(accepted.status === 201);
    }
    expect(outcomes).toHaveLength(12);
  });

  it('refuses names with line breaks or control characters, which would forge lines of a mail', async () => {
    const signup = await sut.post('/v1/auth/signup', {
      body: { email: uniqueEmail('forger'), password: 'correct horse battery staple', name: 'Eve', org_name: 'Acme\n\nSECURITY NOTICE' },
    });
    expect(signup.status).toBe(400);
    expect(signup.body.error.details).toEqual([
      { field: 'org_name', message: 'org_name must not contain control characters or line breaks' },
    ]);
    const renamed = await sut.patch('/v1/orgs/current', { token: owner.token, body: { name: 'Inviting Org\r\nBcc: all' } });
    expect(renamed.status).toBe(400);
    const keyName = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'key\u2028two', environment: 'test' } });
    expect(keyName.status).toBe(400);
    expect((await sut.get('/v1/orgs/current', { token: owner.token })).body.data.name).toBe('Inviting Org');
  });
});
