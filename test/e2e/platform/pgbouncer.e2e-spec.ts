import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

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
  /** A subscriber of the owner's webhooks: every event body it was sent. */
  let subscriber: Server;
  const received: Array<{ type: string; data: { id?: string } }> = [];

  /** outbox_relay_wakeups_total{reason} as GET /metrics shows it. */
  const wakeups = async (reason: string) => {
    const metrics = (await sut.get('/metrics')).text;
    const sample = new RegExp(`^outbox_relay_wakeups_total\\{[^}]*reason="${reason}"[^}]*\\} (\\S+)$`, 'm').exec(metrics);
    return sample ? Number(sample[1]) : 0;
  };

  /** Checks counted for `keyId` in the minute, hour and day series of GET /v1/api-keys/:id/usage. */
  const counted = async (keyId: string) => {
    let sum = 0;
    for (const granularity of ['minute', 'hour', 'day']) {
      const span = (granularity === 'day' ? 48 : 1) * 3_600_000;
      const response = await sut.get(`/v1/api-keys/${keyId}/usage`, {
        token: owner.token,
        query: { granularity, from: new Date(Date.now() - span).toISOString(), to: new Date(Date.now() + span).toISOString() },
      });
      if (response.status !== 200) return -1;
      for (const bucket of response.body.data.buckets as Array<{ total: number }>) sum += bucket.total;
    }
    return sum;
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    bouncer = await OwnPgBouncer.start(new URL(env.databaseUrl));
    sut = await TestApp.start({
      env,
      config: {
        DATABASE_URL: bouncer.urlFor(env.databaseUrl),
        DATABASE_DIRECT_URL: env.databaseUrl,
        USAGE_FLUSH_MS: '50',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      },
    });
    subscriber = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(200).end('ok');
      });
    });
    subscriber.listen(0, '127.0.0.1');
    await once(subscriber, 'listening');
    owner = await signUp(sut);
    const endpoint = await sut.post('/v1/webhooks', {
      token: owner.token,
      body: {
        url: `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/hooks`,
        events: ['api_key.created'],
        environment: 'test',
      },
    });
    expect(endpoint.status).toBe(201);
    await waitUntil(async () => (await wakeups('listening')) > 0, 10_000, 'the outbox listener to connect');
  });

  afterAll(async () => {
    await sut?.close();
    subscriber?.closeAllConnections();
    subscriber?.close();
    await bouncer?.stop();
    await env?.destroy();
  });

  it('issues a key, verifies it and counts the check, every query through the pooler', async () => {
    const before = await bouncer.stats(env.databaseName);

    const key = await issueKey(sut, owner);
    const verified = await sut.post('/v1/verify', { body: { key: key.secret } });

    expect({ status: verified.status, code: verified.body?.data?.code }).toEqual({ status: 200, code: 'VALID' });
    // Minute, hour and day counters each count the one check.
    await waitUntil(async () => (await counted(key.id)) === 3, 10_000, 'the check to be counted');
    const after = await bouncer.stats(env.databaseName);
    expect(after.transactions).toBeGreaterThan(before.transactions);
  });

  it('still wakes the outbox relay on the NOTIFY of a commit, over the direct URL', async () => {
    const notifiedBefore = await wakeups('notify');

    // Issuing a key commits an api_key.created outbox event (through the pooler).
    const key = await issueKey(sut, owner);

    // Relayed, it reaches the subscriber as a webhook.
    const delivered = () => received.filter((event) => event.type === 'api_key.created' && event.data.id === key.id);
    await waitUntil(async () => delivered().length > 0, 10_000, 'the api_key.created event to be relayed and delivered');
    expect(delivered()).toHaveLength(1);
    expect(await wakeups('notify')).toBeGreaterThan(notifiedBefore);
  });
});
