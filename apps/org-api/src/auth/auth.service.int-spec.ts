import { ActorType, AuditLog, UserToken, UserTokenPurpose } from '@latchkey/db';
import { RedisService } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { LoginThrottleService } from '../throttle/login-throttle.service';
import { AuthService } from './auth.service';

const PASSWORD = 'correct horse battery staple';

describe(AuthService.name, () => {
  let harness: ServiceHarness;
  let auth: AuthService;
  let seq = 0;

  beforeAll(async () => {
    // The signup throttle counts in Redis, under this file's own prefix.
    harness = await ServiceHarness.start({ providers: [AuthService, LoginThrottleService, RedisService] });
    auth = harness.get(AuthService);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const actor = { type: ActorType.System, id: null, ip: '203.0.113.20', userAgent: 'int-spec/1.0' };
  const signup = (email = `signup-${++seq}-${Date.now()}@example.com`, orgName = 'Ada Ltd') =>
    auth.signup({ email, password: PASSWORD, name: 'Ada', orgName }, actor);

  it('stores the password only as an argon2id hash and the session token only as its hash', async () => {
    const session = await signup();

    const [user] = await harness.sql<{ password_hash: string }>('select password_hash from users where id = ?', [session.user.id]);
    expect(user.password_hash).toMatch(/^\$argon2id\$/);
    expect(user.password_hash).not.toContain(PASSWORD);
    const sessions = await harness.sql<{ token_hash: string }>('select token_hash from sessions where user_id = ?', [session.user.id]);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(sessions)).not.toContain(session.token);
  });

  it('audits org.created and member.added as the new user, and mails a verification link stored only as a hash', async () => {
    const session = await signup();

    const rows = await harness.em().find(AuditLog, { orgId: session.org.id }, { orderBy: { id: 'asc' } });
    expect(rows.map((row) => [row.action, row.actorType, row.actorId, row.ip])).toEqual([
      ['org.created', 'user', session.user.id, '203.0.113.20'],
      ['member.added', 'user', session.user.id, '203.0.113.20'],
    ]);
    const tokens = await harness.em().find(UserToken, { userId: session.user.id, purpose: UserTokenPurpose.VerifyEmail });
    expect(tokens).toHaveLength(1);
    const mail = harness.mails.find((candidate) => candidate.to === session.user.email);
    const token = /\/console\/verify-email\?token=(\S+)/.exec(mail?.text ?? '')?.[1];
    expect(token).toEqual(expect.any(String));
    expect(JSON.stringify(await harness.sql('select * from user_tokens where user_id = ?', [session.user.id]))).not.toContain(
      decodeURIComponent(token ?? ''),
    );
  });

  it('refuses an email that has an account and creates nothing: no user, organisation, session or audit row', async () => {
    const first = await signup();
    const counts = () =>
      harness.sql<{ users: number; orgs: number; sessions: number; audits: number }>(
        `select (select count(*)::int from users) as users, (select count(*)::int from organizations) as orgs,
                (select count(*)::int from sessions) as sessions, (select count(*)::int from audit_logs) as audits`,
      );
    const before = await counts();

    await expect(signup(first.user.email, 'Second Ltd')).rejects.toMatchObject({ code: 'EMAIL_TAKEN' });

    expect(await counts()).toEqual(before);
  });
});
