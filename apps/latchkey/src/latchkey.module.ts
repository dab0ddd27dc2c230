import { DynamicModule, Module, Type } from '@nestjs/common';

import { AccessModule } from '@latchkey/access';
import { AuditModule } from '@latchkey/audit';
import { AppConfigValues, ConfigModule, ServiceTarget } from '@latchkey/config';
import { DbModule } from '@latchkey/db';
import { OutboxModule } from '@latchkey/outbox';
import { PlatformModule, PlatformWiring } from '@latchkey/platform';

import { AuthCheckModule } from '../../auth-check/src/auth-check.module';
import { KeyIssuerModule } from '../../key-issuer/src/key-issuer.module';
import { OrgApiModule } from '../../org-api/src/org-api.module';
import { UsageWorkerModule } from '../../usage-worker/src/usage-worker.module';

const SERVICE_MODULES: Record<ServiceTarget, Type> = {
  [ServiceTarget.OrgApi]: OrgApiModule,
  [ServiceTarget.KeyIssuer]: KeyIssuerModule,
  [ServiceTarget.AuthCheck]: AuthCheckModule,
  [ServiceTarget.UsageWorker]: UsageWorkerModule,
};

/**
 * The composition root: the shared platform once, then the service modules TARGET
 * names. The services never import each other; they talk over Redis and Postgres
 * whether they share this process or not.
 */
@Module({})
export class LatchkeyModule {
  static forRoot(config: AppConfigValues, platform: PlatformWiring): DynamicModule {
    return {
      module: LatchkeyModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot(),
        PlatformModule.forRoot(platform),
        AccessModule,
        AuditModule,
        OutboxModule,
        ...config.targets.map((target) => SERVICE_MODULES[target]),
      ],
    };
  }
}
