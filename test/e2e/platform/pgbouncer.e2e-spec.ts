import { Client } from 'pg';

import { MetricsService } from '@latchkey/platform';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { OwnPgBouncer } from '../../support/own-pgbouncer';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';

/**
 * A deployment at many pods: every service's ORM pool goes through a real PgBouncer in
 * transaction mode (each transaction may land on another server connection, so nothing
 * may rely on session state or named prepared statements), and DATABASE_DIRECT_URL
 * carries the outbox relay's LISTEN, which such a pooler cannot.
 */
describe('all services through PgBouncer in transaction mode', () => {
  let env: TestEnvironment;
  let bouncer: OwnPgBouncer;
  let sut: TestApp;
  let owner: UserSession;
  /** Reads around the pooler, as an operator's psql would. */
  let direct: Client;

  const wakeups = async (reason: string) => {
    const metric = await sut.app.get(MetricsService).registry.getSingleMetric('outbox_relay_wakeups_total')?.get();
    return metric?.values.find((sample) => sample.labels.reason === reason)?.value ?? 0;
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    bouncer = await OwnPgBouncer.start(new URL(env.databaseUrl));
    sut = await TestApp.start({
      env,
      config: { DATABASE_URL: bouncer.urlFor(env.databaseUrl), DATABASE_DIRECT_URL: env.databaseUrl, USAGE_FLUSH_MS: '50' },
    });
    direct = new Client({ connectionString: env.databaseUrl });
    await direct.connect();
    owner = await signUp(sut);
    await waitUntil(async () => (await wakeups('listening')) > 0, 10_000, 'the outbox listener to connect');
  });

  afterAll(async () => {
    await direct?.end();
    await sut?.close();
    await bouncer?.stop();
    await env?.destroy();
  });

  it('issues a key, verifies it and counts the check, every query through the pooler', async () => {
    const before = await bouncer.stats(env.databaseName);

    const key = await issueKey(sut, owner);
    const verified = await sut.post('/v1/verify', { body: { key: key.secret } });

    expect({ status: verified.status, code: verified.body?.data?.code }).toEqual({ status: 200, code: 'VALID' });
    const counted = async () => {
      const { rows } = await direct.query<{ total: string | null }>('select sum(count) as total from usage_counters where key_id = $1', [
        key.id,
      ]);
      return Number(rows[0].total ?? 0);
    };
    // Minute, hour and day counters each count the one check.
    await waitUntil(async () => (await counted()) === 3, 10_000, 'the check to be counted');
    const after = await bouncer.stats(env.databaseName);
    expect(after.transactions).toBeGreaterThan(before.transactions);
  });

  it('still wakes the outbox relay on the NOTIFY of a commit, over the direct URL', async () => {
    const notifiedBefore = await wakeups('notify');

    // Issuing a key commits an api_key.created outbox event (through the pooler).
    const key = await issueKey(sut, owner);

    const relayed = async () => {
      const { rows } = await direct.query<{ relayed: boolean }>(
        "select relayed_at is not null as relayed from outbox_events where type = 'api_key.created' and data->>'id' = $1",
        [key.id],
      );
      return rows.length === 1 && rows[0].relayed;
    };
    await waitUntil(relayed, 10_000, 'the api_key.created event to be relayed');
    expect(await wakeups('notify')).toBeGreaterThan(notifiedBefore);
  });
});
