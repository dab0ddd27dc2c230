import { DynamicModule, Module, Type } from '@nestjs/common';

import { AccessModule } from '@latchkey/access';
import { AuditModule } from '@latchkey/audit';
import { AppConfigValues, ConfigModule, ServiceTarget } from '@latchkey/config';
import { DbModule } from '@latchkey/db';
import { OutboxModule } from '@latchkey/outbox';
import { PlatformModule, PlatformOptions } from '@latchkey/platform';

import { AuthCheckModule } from '../../auth-check/src/auth-check.module';
import { FrontDoor } from '../../auth-check/src/front-door/front-door';
import { KeyIssuerModule } from '../../key-issuer/src/key-issuer.module';
import { OrgApiModule } from '../../org-api/src/org-api.module';
import { UsageWorkerModule } from '../../usage-worker/src/usage-worker.module';

const SERVICE_MODULES: Record<Exclude<ServiceTarget, typeof ServiceTarget.AuthCheck>, Type> = {
  [ServiceTarget.OrgApi]: OrgApiModule,
  [ServiceTarget.KeyIssuer]: KeyIssuerModule,
  [ServiceTarget.UsageWorker]: UsageWorkerModule,
};

/**
 * The composition root: the shared platform once, then the service modules TARGET
 * names. The services never import each other; they talk over Redis and Postgres
 * whether they share this process or not.
 */
@Module({})
export class LatchkeyModule {
  /** `frontDoor` is the HTTP server's (createLatchkeyApp makes it when TARGET includes auth-check). */
  static forRoot(config: AppConfigValues, platform: PlatformOptions, frontDoor: FrontDoor | null): DynamicModule {
    const services = config.targets.map((target) => {
      if (target !== ServiceTarget.AuthCheck) return SERVICE_MODULES[target];
      if (!frontDoor) throw new Error('auth-check answers its check routes on the front door: pass the one the HTTP server uses');
      return AuthCheckModule.forRoot(frontDoor);
    });
    return {
      module: LatchkeyModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot(),
        PlatformModule.forRoot({ ...platform, health: healthOf(config) }),
        AccessModule,
        AuditModule,
        OutboxModule,
        ...services,
      ],
    };
  }
}

/**
 * Postgres is optional to readiness when the process runs auth-check alone: that one
 * answers cached keys without it (a miss asks key-issuer first), so a database blip must
 * not take every auth-check out of the load balancer. Redis is always required.
 */
function healthOf(config: AppConfigValues): PlatformOptions['health'] {
  const authCheckOnly = config.targets.every((target) => target === ServiceTarget.AuthCheck);
  return { optional: authCheckOnly ? ['postgres'] : [] };
}
