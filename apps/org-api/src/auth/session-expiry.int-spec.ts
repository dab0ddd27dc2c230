import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';

import { AccessGuard, ROLE_RULES, Roles } from '@latchkey/access';
import { ActorType } from '@latchkey/db';
import { RedisService } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { LoginThrottleService } from '../throttle/login-throttle.service';
import { AuthService } from './auth.service';

/** A route as the guard sees it: any member may call it. */
class SessionRoute {
  @Roles(...ROLE_RULES.anyMember)
  read(): void {}
}

describe('session expiry', () => {
  let harness: ServiceHarness;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [AuthService, LoginThrottleService, RedisService, AccessGuard] });
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** Whether the guard lets a request bearing `token` through to the route. */
  const admits = (token: string) => {
    const request = { method: 'GET', url: '/v1/auth/session', headers: { authorization: `Bearer ${token}` } };
    const context = new ExecutionContextHost([request, {}], SessionRoute, SessionRoute.prototype.read);
    return harness.inRequest(() => harness.get(AccessGuard).canActivate(context));
  };

  it('expires sessions after their lifetime', async () => {
    const actor = { type: ActorType.System, id: null, ip: '203.0.113.30', userAgent: 'int-spec/1.0' };
    const session = await harness
      .get(AuthService)
      .signup(
        { email: `expiry-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Ada', orgName: 'Expiring' },
        actor,
      );
    await expect(admits(session.token!)).resolves.toBe(true);

    await harness.sql("update sessions set expires_at = now() - interval '1 second' where user_id = ?", [session.user.id]);
    await expect(admits(session.token!)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });
});
