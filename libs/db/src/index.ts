/**
 * The ORM side: entities, migrations, repositories. It builds on @latchkey/contracts
 * and @latchkey/ids and is never imported by libs/platform (a lint rule), so the
 * platform works without an ORM schema. Ids, roles, pages and isPostgresText are
 * re-exported because entities are declared in their terms and most callers already
 * import from here; new code may take them from their own lib.
 */
export { DbModule } from './db.module';
export * from './entities';
export { IdPrefix, isIdOf, isUlidTime, newId, newUlid, ulidAt } from '@latchkey/ids';
export { isPostgresText, Page, PageRequest, Role, ROLES } from '@latchkey/contracts';
export { ensureDatabaseExists, migrateDatabase } from './migrate-database';
export { createOrmConfig } from './mikro-orm.config';
export { findPage } from './pagination';
export * from './repositories/key-records';
