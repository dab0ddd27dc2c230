import { randomBytes } from 'node:crypto';

import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';

import { runMigrate } from '../../../test/support/run-migrate';
import { databaseUrl, withAdminClient } from '../../../test/support/test-databases';
import { migrateDatabase } from './migrate-database';
import { MIGRATIONS } from './migrations';
import { createOrmConfig } from './mikro-orm.config';

const REPLICAS = 4;

/** A replica's migration run: only the direct URL reaches Postgres, so the run cannot be using the pooled one. */
const runReplica = (directUrl: string) =>
  runMigrate({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/not_a_session', DATABASE_DIRECT_URL: directUrl });

describe(migrateDatabase.name, () => {
  const names: string[] = [];

  const freshDatabase = () => {
    const name = `latchkey_test_migrate_${randomBytes(5).toString('hex')}`;
    names.push(name);
    return databaseUrl(name);
  };

  afterAll(async () => {
    await withAdminClient(async (admin) => {
      for (const name of names) await admin.query(`drop database if exists "${name}" with (force)`);
    });
  });

  it('migrates once when several replicas start at once: the others wait, then find nothing to do', async () => {
    const url = freshDatabase();

    const runs = await Promise.all(Array.from({ length: REPLICAS }, () => runReplica(url)));

    expect(runs.map((run) => ({ code: run.code, stderr: run.stderr }))).toEqual(Array(REPLICAS).fill({ code: 0, stderr: '' }));
    const migrated = runs.filter((run) => run.stdout.includes('migrations applied'));
    expect(migrated).toHaveLength(1);
    expect(migrated[0].stdout).toContain(MIGRATIONS.map((migration) => migration.name).join(', '));
    expect(runs.filter((run) => run.stdout.includes('is up to date'))).toHaveLength(REPLICAS - 1);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const applied = await client.query<{ name: string; times: number }>(
        'select name, count(*)::int as times from mikro_orm_migrations group by name order by name',
      );
      expect(applied.rows).toEqual(MIGRATIONS.map((migration) => ({ name: migration.name, times: 1 })));
    } finally {
      await client.end();
    }
  }, 120_000);

  it('gives up on a table lock it cannot get soon, rather than queue live traffic behind it, and succeeds once it is free', async () => {
    const url = freshDatabase();
    const pending = MIGRATIONS[MIGRATIONS.length - 1];
    await migrateDatabase(url);
    // Back to one migration short of the latest, as a database is when a release starts.
    const orm = await MikroORM.init(createOrmConfig({ databaseUrl: url, allowGlobalContext: true }));
    try {
      await orm.getMigrator().down();
    } finally {
      await orm.close(true);
    }
    const busy = new Client({ connectionString: url });
    await busy.connect();
    try {
      // Every migration run records itself in this table; a long transaction holding it stands for live traffic.
      await busy.query('begin');
      await busy.query('lock table mikro_orm_migrations in share mode');

      await expect(migrateDatabase(url)).rejects.toThrow(/lock timeout/);

      await busy.query('commit');
      await expect(migrateDatabase(url)).resolves.toEqual([pending.name]);
    } finally {
      await busy.end();
    }
  });
});
