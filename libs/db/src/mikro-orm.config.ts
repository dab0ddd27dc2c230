import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';

import { ALL_ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** Connections per process when the caller does not say (DATABASE_POOL_MAX's default). */
export const DEFAULT_POOL_MAX = 10;

export interface OrmConfigOptions {
  /** A postgres:// URL; its query options (`sslmode`, `sslrootcert`, `application_name`, `options`…) apply too. */
  databaseUrl: string;
  /** Connections in the pool (DATABASE_POOL_MAX); DEFAULT_POOL_MAX when left out. */
  poolMax?: number;
  /** Settings added to every connection (the migration runner's `lock_timeout`). */
  connection?: Record<string, unknown>;
  /** Only for one-shot scripts such as the migration runner: apps fork an EntityManager per unit of work. */
  allowGlobalContext?: boolean;
}

/**
 * The one MikroORM configuration: used by every app, the migration runner and the tests.
 * MikroORM reads only host, port, user, password and database from a URL, so the whole URL
 * also goes to node-postgres as its connection string: without it `?sslmode=require` would
 * be dropped and the connection made in clear.
 */
export function createOrmConfig({
  databaseUrl,
  poolMax = DEFAULT_POOL_MAX,
  connection = {},
  allowGlobalContext = false,
}: OrmConfigOptions) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    forceUtcTimezone: true,
    // Schema changes come only from migrations, never from entity metadata at runtime.
    ensureDatabase: false,
    allowGlobalContext,
    discovery: { warnWhenNoEntities: true },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 10_000 },
    driverOptions: { connection: { connectionString: databaseUrl, connectionTimeoutMillis: 3_000, ...connection } },
    debug: false,
  });
}
