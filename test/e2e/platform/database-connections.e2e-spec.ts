import { Client } from 'pg';

import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { TcpProxy } from '../../support/tcp-proxy';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';

/** A proxy counts both ends of every connection it carries. */
const SOCKETS_PER_CONNECTION = 2;
const POOL_MAX = 2;

/**
 * What each Postgres URL carries, told apart by routing each through its own TCP proxy:
 * the ORM pool uses DATABASE_URL and never opens more than DATABASE_POOL_MAX connections;
 * the outbox relay's LISTEN uses DATABASE_DIRECT_URL, and nothing else does. The
 * process runs org-api beside the usage worker so that requests can queue queries.
 */
describe('Postgres connections per URL', () => {
  let env: TestEnvironment;
  let pooled: TcpProxy;
  let direct: TcpProxy;
  let app: TestApp;
  let admin: Client;

  const via = (proxy: TcpProxy) => {
    const url = new URL(env.databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    const target = new URL(env.databaseUrl);
    pooled = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    direct = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    app = await TestApp.start({
      env,
      config: {
        TARGET: 'org-api,usage-worker',
        DATABASE_URL: via(pooled),
        DATABASE_DIRECT_URL: via(direct),
        DATABASE_POOL_MAX: String(POOL_MAX),
      },
    });
    admin = new Client({ connectionString: env.databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await app?.close();
    await pooled?.close();
    await direct?.close();
    await env?.destroy();
  });

  it('listens for outbox commits over DATABASE_DIRECT_URL, on one connection of its own', async () => {
    const listened = async () => {
      const metrics = (await app.get('/metrics')).text;
      const sample = /^outbox_relay_wakeups_total\{[^}]*reason="listening"[^}]*\} (\S+)$/m.exec(metrics);
      return sample ? Number(sample[1]) : 0;
    };
    await waitUntil(async () => (await listened()) > 0, 10_000, 'the outbox listener to connect');

    expect(direct.connections).toBe(SOCKETS_PER_CONNECTION);
    const listeners = await admin.query<{ count: string }>(
      "select count(*) from pg_stat_activity where datname = current_database() and query = 'listen outbox_events'",
    );
    expect(Number(listeners.rows[0].count)).toBe(1);
  });

  it('never opens more than DATABASE_POOL_MAX connections on DATABASE_URL, however many queries wait', async () => {
    const owner = await signUp(app);
    // Every authenticated request looks its session up: with the table locked, each holds a pooled connection or waits for one.
    await admin.query('begin');
    await admin.query('lock table sessions in access exclusive mode');
    const queries = Array.from({ length: 3 * POOL_MAX }, () => app.get('/v1/auth/session', { token: owner.token }));
    const waiting = async () => {
      const found = await admin.query<{ count: string }>(
        "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
      );
      return Number(found.rows[0].count);
    };
    await waitUntil(async () => (await waiting()) >= POOL_MAX, 10_000, 'the pool to fill with waiting queries');
    await admin.query('commit');
    const answers = await Promise.all(queries);
    expect(answers.map((answer) => answer.status)).toEqual(queries.map(() => 200));

    // Six queries queued at once: a larger pool would have opened a connection for each.
    expect(pooled.connections).toBe(POOL_MAX * SOCKETS_PER_CONNECTION);
    expect(direct.connections).toBe(SOCKETS_PER_CONNECTION);
  });
});
