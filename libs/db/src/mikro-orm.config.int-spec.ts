import { MikroORM } from '@mikro-orm/postgresql';

import { databaseUrl } from '../../../test/support/test-databases';
import { createOrmConfig } from './mikro-orm.config';

/** The machine's own database: these cases only connect and read settings, they create nothing. */
const url = (query: string) => `${databaseUrl('postgres')}?${query}`;

describe(createOrmConfig.name, () => {
  it("applies the URL's query options to every connection, which MikroORM alone drops", async () => {
    const orm = await MikroORM.init(createOrmConfig({ databaseUrl: url('application_name=latchkey-orm-probe'), allowGlobalContext: true }));
    try {
      const [row] = await orm.em.getConnection().execute<{ name: string }[]>("select current_setting('application_name') as name");
      expect(row.name).toBe('latchkey-orm-probe');
    } finally {
      await orm.close(true);
    }
  });

  it('asked for sslmode=verify-full, refuses to talk in clear to a server without TLS', async () => {
    // The test server runs with ssl=off: a connection that ignored sslmode would succeed.
    const orm = await MikroORM.init({ ...createOrmConfig({ databaseUrl: url('sslmode=verify-full') }), connect: false });
    try {
      await expect(orm.em.fork().getConnection().execute('select 1')).rejects.toThrow(/does not support SSL/);
    } finally {
      await orm.close(true);
    }
  });

  it('adds the caller’s connection settings to the defaults', async () => {
    const orm = await MikroORM.init(
      createOrmConfig({ databaseUrl: databaseUrl('postgres'), allowGlobalContext: true, connection: { statement_timeout: 1234 } }),
    );
    try {
      const [row] = await orm.em.getConnection().execute<{ timeout: string }[]>("select current_setting('statement_timeout') as timeout");
      expect(row.timeout).toBe('1234ms');
    } finally {
      await orm.close(true);
    }
  });
});
