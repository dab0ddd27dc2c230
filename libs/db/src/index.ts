export { DbModule } from './db.module';
export * from './entities';
export { IdPrefix, isIdOf, isUlidTime, newId, newUlid, ulidAt } from './ids';
export { ensureDatabaseExists, migrateDatabase } from './migrate-database';
export { createOrmConfig } from './mikro-orm.config';
export { findPage, Page, PageRequest } from './pagination';
export { isPostgresText } from './postgres-text';
export * from './repositories/key-records';
