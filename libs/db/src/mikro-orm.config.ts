import { Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, PostgreSqlDriver } from '@mikro-orm/postgresql';

import { ALL_ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** Connections per process when the caller does not say (DATABASE_POOL_MAX's default). */
export const DEFAULT_POOL_MAX = 10;

/** The one MikroORM configuration: used by every app, the migration runner and the tests. */
export function createOrmConfig(
  databaseUrl: string,
  overrides: Partial<Options<PostgreSqlDriver>> = {},
  poolMax = DEFAULT_POOL_MAX,
): Options<PostgreSqlDriver> {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    forceUtcTimezone: true,
    // Schema changes come only from migrations, never from entity metadata at runtime.
    ensureDatabase: false,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: true },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 10_000 },
    driverOptions: { connection: { connectionTimeoutMillis: 3_000 } },
    debug: false,
    ...overrides,
  });
}
