import { setTimeout as sleep } from 'node:timers/promises';

import { TestApp } from '../../support/create-test-app';
import { logIn, signUp, TEST_PASSWORD, uniqueEmail } from '../../support/factories';
import { SmtpSink } from '../../support/smtp-sink';

const VERIFY = '/console/verify-email';
const RESET = '/console/reset-password';
const NEW_PASSWORD = 'a brand new passphrase';

describe('Email verification and password reset over SMTP', () => {
  let smtp: SmtpSink;
  let sut: TestApp;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    sut = await TestApp.start({ config: { SMTP_URL: smtp.url, LOGIN_MAX_FAILURES: '3' } });
  });

  afterAll(async () => {
    await sut.close();
    await smtp.close();
  });

  const session = (token: string) => sut.get('/v1/auth/session', { token });

  it('verifies an address once with the mailed link, and resends a fresh one on request', async () => {
    const person = await signUp(sut, { verify: false });
    expect((await session(person.token)).body.data.user.email_verified_at).toBeNull();
    const first = smtp.token(person.email, VERIFY);
    expect(smtp.to(person.email)[0]).toContain(`http://localhost:3000${VERIFY}?token=`);

    const resent = await sut.post('/v1/auth/resend-verification', { token: person.token });
    expect(resent.status).toBe(202);
    const second = smtp.token(person.email, VERIFY);
    expect(second).not.toBe(first);

    const verified = await sut.post('/v1/auth/verify-email', { token: person.token, body: { token: second } });
    expect(verified.status).toBe(200);
    expect((await session(person.token)).body.data.user.email_verified_at).toEqual(expect.any(String));
    const reused = await sut.post('/v1/auth/verify-email', { token: person.token, body: { token: second } });
    expect(reused.status).toBe(400);
    expect(reused.body.success).toBe(false);
    const again = await sut.post('/v1/auth/resend-verification', { token: person.token });
    expect(again.body.error.code).toBe('EMAIL_ALREADY_VERIFIED');
  });

  it('refuses a made-up verification token with 400', async () => {
    const person = await signUp(sut, { verify: false });
    const response = await sut.post('/v1/auth/verify-email', { token: person.token, body: { token: 'lkv_not-a-real-token' } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('verifies only for the account the link was mailed for: someone who signed up with your address stays unverified', async () => {
    // The attacker opens an account with the victim's address; the victim gets the mail and clicks.
    const squatter = await signUp(sut, { verify: false });
    const link = smtp.token(squatter.email, VERIFY);
    const unsigned = await sut.post('/v1/auth/verify-email', { body: { token: link } });
    expect(unsigned.status).toBe(401);
    const victim = await signUp(sut);
    const otherAccount = await sut.post('/v1/auth/verify-email', { token: victim.token, body: { token: link } });
    expect(otherAccount.status).toBe(400);
    expect((await session(squatter.token)).body.data.user.email_verified_at).toBeNull();
    // The token is not spent by those refusals: its own account can still use it.
    expect((await sut.post('/v1/auth/verify-email', { token: squatter.token, body: { token: link } })).status).toBe(200);
  });

  it('resets a password end to end, ends every session, and the link works once', async () => {
    const person = await signUp(sut);
    const other = await logIn(sut, person.email);

    const requested = await sut.post('/v1/auth/password-reset', { body: { email: person.email } });
    expect(requested.status).toBe(202);
    await smtp.waitFor(person.email, 2);
    const token = smtp.token(person.email, RESET);

    const confirmed = await sut.post('/v1/auth/password-reset/confirm', { body: { token, password: NEW_PASSWORD } });
    expect(confirmed.status).toBe(200);
    expect((await session(person.token)).status).toBe(401);
    expect((await session(other.token)).status).toBe(401);
    expect((await sut.post('/v1/auth/login', { body: { email: person.email, password: TEST_PASSWORD } })).status).toBe(401);
    expect((await logIn(sut, person.email, NEW_PASSWORD)).userId).toBe(person.userId);

    const reused = await sut.post('/v1/auth/password-reset/confirm', { body: { token, password: 'yet another passphrase' } });
    expect(reused.status).toBe(400);
  });

  it('answers an unknown address exactly like a known one, and mails nobody', async () => {
    const known = await signUp(sut);
    const unknown = uniqueEmail('nobody');
    const before = smtp.received.length;

    const a = await sut.post('/v1/auth/password-reset', { body: { email: known.email } });
    const b = await sut.post('/v1/auth/password-reset', { body: { email: unknown } });

    expect([a.status, b.status]).toEqual([202, 202]);
    expect({ ...a.body, request_id: null }).toEqual({ ...b.body, request_id: null });
    await smtp.waitFor(known.email, 2);
    expect(smtp.to(unknown)).toEqual([]);
    expect(smtp.received.length).toBe(before + 1);
  });

  it('answers a reset request before the mail is sent, so a slow SMTP server reveals no account', async () => {
    const known = await signUp(sut, { verify: false });
    // The SMTP server now holds every message: were the mail sent on the request path, a
    // known address would be answered only once it lets go, an unknown one at once.
    smtp.hold();
    try {
      const answer = await Promise.race([
        sut.post('/v1/auth/password-reset', { body: { email: known.email } }),
        sleep(5_000).then(() => 'still waiting for the SMTP server' as const),
      ]);
      expect(answer).toMatchObject({ status: 202 });
      await smtp.waitFor(known.email, 2);
    } finally {
      smtp.release();
    }
    expect(smtp.token(known.email, RESET)).toMatch(/^lkr_/);
  });

  it('refuses a made-up reset token with 400 and changes no password', async () => {
    const person = await signUp(sut);
    const refused = await sut.post('/v1/auth/password-reset/confirm', { body: { token: 'lkr_made-up', password: NEW_PASSWORD } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ field: 'token', message: 'invalid or expired' }]);
    expect((await logIn(sut, person.email)).userId).toBe(person.userId);
  });

  it('throttles verification resends per account with 429, so nobody is mail-bombed', async () => {
    const person = await signUp(sut, { verify: false });
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push((await sut.post('/v1/auth/resend-verification', { token: person.token })).status);
    }
    // LOGIN_MAX_FAILURES is 3 here.
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect(smtp.to(person.email)).toHaveLength(4);
  });

  it('throttles signups per client address with 429', async () => {
    const limited = await TestApp.start({ config: { SMTP_URL: smtp.url, SIGNUP_MAX_PER_ADDRESS: '2' } });
    try {
      const statuses: number[] = [];
      for (let index = 0; index < 3; index += 1) {
        const body = { email: uniqueEmail('many'), password: TEST_PASSWORD, name: 'Many', org_name: 'Many Org' };
        statuses.push((await limited.post('/v1/auth/signup', { body })).status);
      }
      expect(statuses).toEqual([201, 201, 429]);
    } finally {
      await limited.close();
    }
  });

  it('throttles signups of one email with 429 once its limit is used up', async () => {
    const email = uniqueEmail('again');
    const body = { email, password: TEST_PASSWORD, name: 'Again', org_name: 'Again Org' };
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) statuses.push((await sut.post('/v1/auth/signup', { body })).status);
    // LOGIN_MAX_FAILURES is 3 here: the first creates, two more are 409 EMAIL_TAKEN, then 429.
    expect(statuses).toEqual([201, 409, 409, 429, 429]);
  });

  it('throttles reset requests per email with 429', async () => {
    const email = uniqueEmail('flood');
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push((await sut.post('/v1/auth/password-reset', { body: { email } })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});
