import { TestApp } from '../../support/create-test-app';
import { inviteAndAccept, logIn, signUp, TEST_PASSWORD, uniqueEmail } from '../../support/factories';

describe('accounts and sessions', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { LOGIN_MAX_FAILURES: '4', LOGIN_LOCK_SECONDS: '60' } });
  });

  afterAll(async () => {
    await sut.close();
  });

  describe('signup', () => {
    it('creates the user and the organisation, makes the user its owner and opens a session', async () => {
      const email = uniqueEmail('ada');
      const response = await sut.post('/v1/auth/signup', {
        body: { email: `  ${email.toUpperCase()} `, password: TEST_PASSWORD, name: 'Ada', org_name: 'Engines' },
      });
      expect(response.status).toBe(201);
      const data = response.body.data;
      expect(data.user).toEqual({
        id: expect.stringMatching(/^usr_/),
        email,
        name: 'Ada',
        email_verified_at: null,
        created_at: expect.any(String),
      });
      expect(data.org).toMatchObject({ id: expect.stringMatching(/^org_/), name: 'Engines', live_access: 'not_requested' });
      expect(data.role).toBe('owner');
      expect(data.token).toMatch(/^lks_/);
      expect(new Date(data.expires_at).getTime()).toBeGreaterThan(Date.now());
      const session = await sut.get('/v1/auth/session', { token: data.token });
      expect(session.body.data).toMatchObject({ user: { id: data.user.id }, org: { id: data.org.id }, role: 'owner' });
      expect(session.body.data.token).toBeUndefined();
    });

    it('refuses a second account with the same email, in any case', async () => {
      const first = await signUp(sut);
      const again = await sut.post('/v1/auth/signup', {
        body: { email: first.email.toUpperCase(), password: TEST_PASSWORD, name: 'Other', org_name: 'Other' },
      });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('EMAIL_TAKEN');
    });

    it('refuses a short password', async () => {
      const response = await sut.post('/v1/auth/signup', { body: { email: uniqueEmail(), password: 'short', name: 'A', org_name: 'B' } });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([{ field: 'password', message: expect.stringContaining('12') }]);
    });
  });

  describe('login', () => {
    it('opens a new session with the right password', async () => {
      const person = await signUp(sut);
      const session = await logIn(sut, person.email);
      expect(session.token).not.toBe(person.token);
      expect(session).toMatchObject({ userId: person.userId, orgId: person.orgId, role: 'owner' });
    });

    it('answers 401 for a wrong password and for an unknown email alike', async () => {
      const person = await signUp(sut);
      const wrong = await sut.post('/v1/auth/login', { body: { email: person.email, password: 'not the password' } });
      const unknown = await sut.post('/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password' } });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body.error.message).toBe(unknown.body.error.message);
    });

    it('answers 404 for an org_id the user does not belong to', async () => {
      const person = await signUp(sut);
      const stranger = await signUp(sut);
      const response = await sut.post('/v1/auth/login', { body: { email: person.email, password: TEST_PASSWORD, org_id: stranger.orgId } });
      expect(response.status).toBe(404);
    });

    it('locks an account after repeated failures with a 429 and Retry-After, even for the right password', async () => {
      const person = await signUp(sut);
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        const failed = await sut.post('/v1/auth/login', { body: { email: person.email, password: `wrong ${attempt}` } });
        expect(failed.status).toBe(401);
      }
      const locked = await sut.post('/v1/auth/login', { body: { email: person.email, password: TEST_PASSWORD } });
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('ACCOUNT_LOCKED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
      // Other accounts are not affected by this one's lock.
      const other = await signUp(sut);
      expect((await sut.post('/v1/auth/login', { body: { email: other.email, password: TEST_PASSWORD } })).status).toBe(200);
    });

    it('counts parallel guesses before checking them, so a burst cannot exceed the limit', async () => {
      // Its own app: the burst would otherwise use up this file's per-address budget.
      const isolated = await TestApp.start({ config: { LOGIN_MAX_FAILURES: '4', LOGIN_LOCK_SECONDS: '60' } });
      try {
        const person = await signUp(isolated);
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, attempt) =>
            isolated.post('/v1/auth/login', { body: { email: person.email, password: `burst ${attempt}` } }),
          ),
        );
        const statuses = answers.map((answer) => answer.status);
        expect(statuses.filter((status) => status === 401)).toHaveLength(4);
        expect(statuses.filter((status) => status === 429)).toHaveLength(8);
      } finally {
        await isolated.close();
      }
    }, 30_000);

    it('locks an address that fails across many accounts', async () => {
      const ip = { 'x-forwarded-for': '203.0.113.77' };
      const isolated = await TestApp.start({ config: { LOGIN_MAX_FAILURES: '2', LOGIN_LOCK_SECONDS: '60', TRUST_PROXY: 'true' } });
      try {
        const victim = await signUp(isolated);
        // 2 × 4 = 8 failures from one address, each on a different (unknown) account.
        for (let attempt = 0; attempt < 8; attempt += 1) {
          await isolated.post('/v1/auth/login', { body: { email: uniqueEmail('spray'), password: 'guess' }, headers: ip });
        }
        const blocked = await isolated.post('/v1/auth/login', { body: { email: victim.email, password: TEST_PASSWORD }, headers: ip });
        expect(blocked.status).toBe(429);
        expect(blocked.body.error.code).toBe('TOO_MANY_LOGIN_ATTEMPTS');
        const elsewhere = await isolated.post('/v1/auth/login', {
          body: { email: victim.email, password: TEST_PASSWORD },
          headers: { 'x-forwarded-for': '198.51.100.5' },
        });
        expect(elsewhere.status).toBe(200);
      } finally {
        await isolated.close();
      }
    }, 60_000);
  });

  describe('logout and switch-org', () => {
    it('revokes the session token at once', async () => {
      const person = await signUp(sut);
      expect((await sut.post('/v1/auth/logout', { token: person.token })).status).toBe(200);
      expect((await sut.get('/v1/auth/session', { token: person.token })).status).toBe(401);
      expect((await sut.post('/v1/auth/logout', { token: person.token })).status).toBe(401);
    });

    it('moves the session to another organisation of the user, and refuses a foreign one with 404', async () => {
      const owner = await signUp(sut);
      const colleague = await signUp(sut, { orgName: 'Colleague Org' });
      await inviteAndAccept(sut, owner, colleague, 'viewer');

      const switched = await sut.post('/v1/auth/switch-org', { token: colleague.token, body: { org_id: owner.orgId } });
      expect(switched.status).toBe(200);
      expect(switched.body.data).toMatchObject({ org: { id: owner.orgId }, role: 'viewer' });
      const session = await sut.get('/v1/auth/session', { token: colleague.token });
      expect(session.body.data.org.id).toBe(owner.orgId);

      const stranger = await signUp(sut);
      const foreign = await sut.post('/v1/auth/switch-org', { token: colleague.token, body: { org_id: stranger.orgId } });
      expect(foreign.status).toBe(404);
      expect((await sut.get('/v1/auth/session', { token: colleague.token })).body.data.org.id).toBe(owner.orgId);
    });
  });
});
