import { Global, Module } from '@nestjs/common';

import { RedisService } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { AuthModule } from '../auth/auth.module';
import { AuthService } from '../auth/auth.service';
import { MembersModule } from '../members/members.module';
import { MembersService } from '../members/members.service';
import { LoginThrottleService } from './login-throttle.service';

/** What PlatformModule gives every module in the app: one RedisService, global. */
@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
class SharedRedisModule {}

describe('ThrottleModule', () => {
  let harness: ServiceHarness;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ imports: [SharedRedisModule, AuthModule, MembersModule] });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('limits logins and invitations with one throttle, provided once', () => {
    const throttle = (service: object) => (service as { throttle: LoginThrottleService }).throttle;
    const auth = throttle(harness.get(AuthService));
    expect(auth).toBeInstanceOf(LoginThrottleService);
    expect(auth).toBe(throttle(harness.get(MembersService)));
  });
});
