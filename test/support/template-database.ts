import { migrateDatabase } from '@latchkey/db';

import { databaseUrl, templateName, withAdminClient } from './test-databases';

/**
 * Builds the migrated template database once per set of migrations, under an
 * advisory lock so parallel Jest workers (and parallel runs) build it once.
 * It runs inside the test sandbox rather than in Jest's globalSetup: MikroORM keeps
 * metadata in globals, and a second realm breaks it (mikro-orm issue #3783).
 */
export async function ensureTemplateDatabase(): Promise<string> {
  const template = templateName();
  await withAdminClient(async (admin) => {
    await admin.query('select pg_advisory_lock(7411)');
    try {
      const found = await admin.query('select 1 from pg_database where datname = $1', [template]);
      if (found.rowCount) return;
      const building = `${template}_building`;
      await admin.query(`drop database if exists "${building}"`);
      await admin.query(`create database "${building}"`);
      await migrateDatabase(databaseUrl(building));
      await admin.query(`alter database "${building}" rename to "${template}"`);
      // Templates of older migration sets are no longer needed.
      const stale = await admin.query<{ datname: string }>(
        "select datname from pg_database where datname like 'latchkey\\_tpl\\_%' and datname not like '%\\_building' and datname <> $1",
        [template],
      );
      for (const row of stale.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
    } finally {
      await admin.query('select pg_advisory_unlock(7411)');
    }
  });
  return template;
}
