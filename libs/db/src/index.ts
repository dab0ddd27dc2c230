/**
 * The ORM side: entities, migrations, repositories. It builds on @latchkey/contracts
 * and @latchkey/ids and is never imported by libs/platform (a lint rule), so the
 * platform works without an ORM schema. Ids come from @latchkey/ids; roles, pages and
 * isPostgresText from @latchkey/contracts.
 */
export { DbModule } from './db.module';
export * from './entities';
export { ensureDatabaseExists, migrateDatabase } from './migrate-database';
export { createOrmConfig } from './mikro-orm.config';
export { findPage } from './pagination';
export * from './repositories/key-records';
