/**
 * `node dist/libs/db/src/migrate.js`: creates the database when missing and applies
 * pending migrations. Run by `npm start`, `npm test` and the containers' entry point.
 */
import { loadConfig } from '@latchkey/config';

import { migrateDatabase } from './migrate-database';

async function main(): Promise<void> {
  // Never through a transaction-mode pooler: a migration needs one session from start to end.
  const { DATABASE_DIRECT_URL } = loadConfig();
  const applied = await migrateDatabase(DATABASE_DIRECT_URL);
  const where = new URL(DATABASE_DIRECT_URL);
  where.password = '';
  console.log(
    applied.length
      ? `migrations applied to ${where.host}${where.pathname}: ${applied.join(', ')}`
      : `database ${where.pathname.slice(1)} is up to date`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
