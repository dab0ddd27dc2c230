import { EventType } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';
import { OwnRedisServer } from '../../support/own-redis-server';
import { waitUntil } from '../../support/wait-until';
import { HookReceiver } from '../../support/webhook-fixtures';

/**
 * The outbox relay through a Redis outage, as an operator and a subscriber see it:
 * the process stays up, /metrics counts the events waiting, the relay logs its
 * failures and its recovery, and every event arrives once Redis is back. What the
 * relay does with the rows and the queue (one job per event, never twice, across
 * restarts, concurrent relays and a graceful stop) is tested against the service in
 * apps/usage-worker/src/outbox-relay/outbox-relay.service.int-spec.ts.
 */
describe('usage-worker: outbox relay to the events queue', () => {
  // First in the file on purpose: nestjs-pino sends logs written outside a request
  // (the relay's) to the first app a test file starts, and this test reads them.
  describe('when Redis goes away', () => {
    let redis: OwnRedisServer;
    let hooks: HookReceiver;
    let sut: TestApp;
    let owner: UserSession;
    let endpointId: string;
    const logs = new LogCapture();

    beforeAll(async () => {
      redis = await OwnRedisServer.start();
      hooks = await HookReceiver.start();
      sut = await TestApp.start({ logs, config: { REDIS_URL: redis.url, LOG_LEVEL: 'info', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
      owner = await signUp(sut);
      const endpoint = await sut.post('/v1/webhooks', {
        token: owner.token,
        body: { url: hooks.url('/tests'), events: [EventType.ApiKeyCreated], environment: 'test' },
      });
      expect(endpoint.status).toBe(201);
      endpointId = endpoint.body.data.id;
    });

    afterAll(async () => {
      await redis?.restart();
      await sut?.close();
      await hooks?.close();
      await redis?.stop();
    });

    /** Sends `count` test webhooks through the API: each commits one webhook.test event; returns their ids. */
    async function sendTests(count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let index = 0; index < count; index += 1) {
        const sent = await sut.post(`/v1/webhooks/${endpointId}/test`, { token: owner.token });
        expect(sent.status).toBe(202);
        ids.push(sent.body.data.event_id);
      }
      return ids;
    }

    const arrived = (ids: string[]) => ids.every((id) => hooks.firstSeen.has(id));

    const scrape = async () => (await sut.get('/metrics')).text;

    it('keeps the events written during the outage and delivers them once Redis is back', async () => {
      const before = await sendTests(5);
      await waitUntil(() => arrived(before), 10_000, 'the webhooks sent before the outage');

      await redis.kill();
      const during = await sendTests(12);
      // Nothing lost, nothing marked relayed, the process still up and answering.
      await waitUntil(async () => /^outbox_unrelayed_events 12$/m.test(await scrape()), 10_000, 'the gauge to count 12 events waiting');
      await waitUntil(
        async () => /^outbox_relay_failures_total [1-9]\d*$/m.test(await scrape()),
        10_000,
        'a failed relay attempt in /metrics',
      );
      expect((await sut.get('/health/live')).status).toBe(200);
      expect(during.filter((id) => hooks.firstSeen.has(id))).toEqual([]);

      // A fresh, empty redis-server on the same port: only what the relay sends now is there.
      await redis.restart();
      await waitUntil(() => arrived(during), 20_000, 'the webhooks sent during the outage');
      await waitUntil(async () => /^outbox_unrelayed_events 0$/m.test(await scrape()), 10_000, 'the gauge back to 0');
      // It said what happened: failures with their back-off, then the recovery.
      const relayLines = logs
        .entries()
        .filter((entry) => entry.context === 'OutboxRelayService')
        .map((entry) => `${String(entry.level)} ${String(entry.msg)}`);
      expect(relayLines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^40 outbox relay failed \(attempt 1\), retrying in \d+ ms: /),
          expect.stringMatching(/^30 outbox relay recovered after \d+ failed attempts$/),
        ]),
      );
      // And it keeps relaying as usual; what was relayed before the outage was not sent again.
      const after = await sendTests(3);
      await waitUntil(() => arrived(after), 10_000, 'the webhooks sent after recovery');
      expect(hooks.distinct).toBe(20);
      expect(hooks.duplicates().size).toBe(0);
    }, 90_000);
  });
});
