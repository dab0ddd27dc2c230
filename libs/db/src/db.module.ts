import { MikroORM, RequestContext } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { DynamicModule, Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule, RequestMethod } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { OPERATIONAL_ROUTE_PATHS } from '@latchkey/contracts';

import { ALL_ENTITIES } from './entities';
import { createOrmConfig } from './mikro-orm.config';

/** Gives each HTTP request its own EntityManager (identity map), as MikroORM's own middleware does. */
@Injectable()
class RequestContextMiddleware implements NestMiddleware {
  constructor(private readonly orm: MikroORM) {}

  use(_request: unknown, _response: unknown, next: () => void): void {
    RequestContext.create(this.orm.em, next);
  }
}

/**
 * MikroORM for the whole process, one request-scoped EntityManager per HTTP request,
 * except on probes and scrapes, which never use it. The key checks never reach this
 * middleware: auth-check's front door answers them before Nest (and forks its own
 * EntityManager on a cache miss).
 */
@Module({})
export class DbModule implements NestModule {
  static forRoot(): DynamicModule {
    return {
      module: DbModule,
      imports: [
        MikroOrmModule.forRootAsync({
          inject: [AppConfig],
          // Our own RequestContextMiddleware below replaces MikroORM's, to keep it off the probes.
          useFactory: (config: AppConfig) => ({
            ...createOrmConfig({ databaseUrl: config.get('DATABASE_URL'), poolMax: config.get('DATABASE_POOL_MAX') }),
            registerRequestContext: false,
          }),
          driver: PostgreSqlDriver,
        }),
        MikroOrmModule.forFeature(ALL_ENTITIES),
      ],
      providers: [RequestContextMiddleware],
      exports: [MikroOrmModule],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(RequestContextMiddleware)
      .exclude(...OPERATIONAL_ROUTE_PATHS.map((path) => ({ path, method: RequestMethod.ALL })))
      .forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
