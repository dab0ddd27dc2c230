import { DynamicModule, Module } from '@nestjs/common';

import { FrontDoor } from '../front-door/front-door';
import { KeyRecordsModule } from '../key-records/key-records.module';
import { QuotasModule } from '../quotas/quotas.module';
import { RateLimitsModule } from '../rate-limits/rate-limits.module';
import { SignaturesModule } from '../signatures/signatures.module';
import { UsageEventsModule } from '../usage-events/usage-events.module';
import { KeyChecksFrontDoor } from './key-checks.front-door';
import { KeyChecksHttpController } from './key-checks.http.controller';
import { KeyChecksHttpHandler } from './key-checks.http.handler';
import { KeyChecksRpcController } from './key-checks.rpc.controller';
import { KeyChecksService } from './key-checks.service';

/** One service behind two transports: HTTP (verify, forward auth) and `auth.verify`. */
@Module({
  imports: [KeyRecordsModule, QuotasModule, RateLimitsModule, SignaturesModule, UsageEventsModule],
  controllers: [KeyChecksHttpController, KeyChecksRpcController],
  providers: [KeyChecksFrontDoor, KeyChecksHttpHandler, KeyChecksService],
})
export class KeyChecksModule {
  /** The check routes register on `frontDoor` (KeyChecksFrontDoor). */
  static forRoot(frontDoor: FrontDoor): DynamicModule {
    return { module: KeyChecksModule, providers: [{ provide: FrontDoor, useValue: frontDoor }] };
  }
}
