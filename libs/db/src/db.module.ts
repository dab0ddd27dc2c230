import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { DynamicModule, Module } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';

import { ALL_ENTITIES } from './entities';
import { createOrmConfig } from './mikro-orm.config';

/** MikroORM for the whole process, one request-scoped EntityManager per HTTP request. */
@Module({})
export class DbModule {
  static forRoot(): DynamicModule {
    return {
      module: DbModule,
      imports: [
        MikroOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => createOrmConfig(config.get('DATABASE_URL')),
          driver: PostgreSqlDriver,
        }),
        MikroOrmModule.forFeature(ALL_ENTITIES),
      ],
      exports: [MikroOrmModule],
    };
  }
}
