import { Module } from '@nestjs/common';

import { KeyChecksModule } from './key-checks/key-checks.module';
import { KeyRecordsModule } from './key-records/key-records.module';
import { QuotasModule } from './quotas/quotas.module';
import { RateLimitsModule } from './rate-limits/rate-limits.module';
import { RedisWarmup } from './redis-warmup';
import { SignaturesModule } from './signatures/signatures.module';
import { UsageEventsModule } from './usage-events/usage-events.module';

/** The auth-check service (SPEC §5): the key check hot path over HTTP and the Redis transport. */
@Module({
  imports: [KeyChecksModule, KeyRecordsModule, QuotasModule, RateLimitsModule, SignaturesModule, UsageEventsModule],
  providers: [RedisWarmup],
})
export class AuthCheckModule {}
