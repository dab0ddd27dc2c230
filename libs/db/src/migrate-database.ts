import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';

import { createOrmConfig } from './mikro-orm.config';

/** Creates the database named in `databaseUrl` when it does not exist yet. */
export async function ensureDatabaseExists(databaseUrl: string, template?: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name ${name} must be letters, digits and _`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount) return false;
    const from = template ? ` template "${template}"` : '';
    await admin.query(`create database "${name}"${from}`);
    return true;
  } catch (error) {
    // Another process created it between our check and our create.
    if ((error as { code?: string }).code === '42P04') return false;
    throw error;
  } finally {
    await admin.end();
  }
}

/** Applies every pending migration; returns the names applied. */
export async function migrateDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabaseExists(databaseUrl);
  const orm = await MikroORM.init(createOrmConfig(databaseUrl, { allowGlobalContext: true }));
  try {
    const applied = await orm.getMigrator().up();
    return applied.map((migration) => migration.name);
  } finally {
    await orm.close(true);
  }
}
