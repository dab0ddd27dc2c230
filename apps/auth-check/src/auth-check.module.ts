import { DynamicModule, Module } from '@nestjs/common';

import { FrontDoor } from './front-door/front-door';
import { KeyChecksModule } from './key-checks/key-checks.module';
import { KeyRecordsModule } from './key-records/key-records.module';
import { QuotasModule } from './quotas/quotas.module';
import { RateLimitsModule } from './rate-limits/rate-limits.module';
import { RedisWarmup } from './redis-warmup';
import { SignaturesModule } from './signatures/signatures.module';
import { UsageEventsModule } from './usage-events/usage-events.module';

/**
 * The auth-check service (docs/architecture.md#a-check-end-to-end): the key check hot path over
 * HTTP and the Redis transport.
 */
@Module({})
export class AuthCheckModule {
  /**
   * `frontDoor` sits in the HTTP server, which exists before Nest does (Fastify's
   * serverFactory), so the process that runs auth-check makes it and hands it in.
   */
  static forRoot(frontDoor: FrontDoor): DynamicModule {
    return {
      module: AuthCheckModule,
      imports: [KeyChecksModule.forRoot(frontDoor), KeyRecordsModule, QuotasModule, RateLimitsModule, SignaturesModule, UsageEventsModule],
      providers: [RedisWarmup],
    };
  }
}
