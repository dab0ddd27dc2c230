import { Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { AppError, RedisService } from '@latchkey/platform';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { LoginThrottleService } from './login-throttle.service';

describe(LoginThrottleService.name, () => {
  let env: TestEnvironment;
  let redis: RedisService;
  let sut: LoginThrottleService;
  let seq = 0;
  const email = () => `throttle-${++seq}@example.com`;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
    const config = new AppConfig(env.config({ LOGIN_MAX_FAILURES: '3', INVITATIONS_MAX_PER_ORG: '2' }));
    redis = new RedisService(config);
    sut = new LoginThrottleService(redis, config);
  });

  afterAll(async () => {
    redis.client.disconnect();
    await env.destroy();
  });

  const count = async (key: string) => Number(await redis.client.get(redis.key(...key.split(':'))));

  it('counts a client address, and an inviting organisation, under the keys counters already live in', async () => {
    await sut.begin(email(), '203.0.113.7');
    await sut.begin(email(), 'org_scoped', 'invitation');

    expect(await count('login-attempts:ip:203.0.113.7')).toBe(1);
    expect(await count('invitation-attempts:ip:org_scoped')).toBe(1);
  });

  it('refuses an organisation over its invitation limit, whoever is invited, and no other organisation', async () => {
    await sut.begin(email(), 'org_busy', 'invitation');
    await sut.begin(email(), 'org_busy', 'invitation');

    const refused = await sut.begin(email(), 'org_busy', 'invitation').catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS', message: 'Too many invitations from this organisation; try again later.' });
    await expect(sut.begin(email(), 'org_quiet', 'invitation')).resolves.toMatchObject({ scope: 'org_quiet', accountAttempts: 1 });
  });

  it('gives a successful login its attempt back on the address and clears the account', async () => {
    const account = email();
    await sut.begin(account, '198.51.100.9');
    const attempt = await sut.begin(account, '198.51.100.9');
    expect(attempt).toMatchObject({ action: 'login', scope: '198.51.100.9', accountAttempts: 2 });

    await sut.succeeded(attempt);

    expect(await count('login-attempts:ip:198.51.100.9')).toBe(1);
    expect((await sut.begin(account, '198.51.100.9')).accountAttempts).toBe(1);
  });
});
