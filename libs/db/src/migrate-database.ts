import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';

import { createOrmConfig } from './mikro-orm.config';

/**
 * The session advisory lock a migration run holds on its database, so replicas that start
 * together migrate once: the others wait for it, then find nothing pending.
 */
export const MIGRATION_LOCK_KEY = 0x4c4b_4d47;
/**
 * How long a migration statement may wait for a table lock before the run fails. While an
 * ALTER waits, every query on that table queues behind it, so a long wait stalls live traffic;
 * failing lets the run be retried when the table is quieter. There is no statement_timeout:
 * a data migration may legitimately run long, and one that rewrites a big table is written in
 * batches instead.
 */
export const MIGRATION_LOCK_TIMEOUT_MS = 5_000;

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
    // Another process created it between our check and our create (42P04, or 23505 when both
    // inserted into pg_database at once).
    const code = (error as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Applies every pending migration under MIGRATION_LOCK_KEY; returns the names applied (none
 * when another run applied them first). `databaseUrl` must reach Postgres as a session (not
 * through a transaction-mode pooler), since the lock belongs to the session that took it.
 */
export async function migrateDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabaseExists(databaseUrl);
  // Its own connection with no lock_timeout: waiting for another run is expected, however long it takes.
  const lock = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const orm = await MikroORM.init(
      createOrmConfig({ databaseUrl, allowGlobalContext: true, connection: { lock_timeout: MIGRATION_LOCK_TIMEOUT_MS } }),
    );
    try {
      const applied = await orm.getMigrator().up();
      return applied.map((migration) => migration.name);
    } finally {
      await orm.close(true);
    }
  } finally {
    // Ending the session releases the lock, as a crashed run's would.
    await lock.end();
  }
}
