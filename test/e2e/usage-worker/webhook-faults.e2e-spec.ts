import { setTimeout as sleep } from 'node:timers/promises';

import { EntityManager } from '@mikro-orm/postgresql';

import { DomainEvent } from '@latchkey/contracts';
import { DeliveryStatus, WebhookDelivery } from '@latchkey/db';

import { EventsQueueProducer } from '../../../apps/usage-worker/src/outbox-relay/events-queue.producer';
import { OutboxRelayService } from '../../../apps/usage-worker/src/outbox-relay/outbox-relay.service';
import { DELIVERY_CONCURRENCY } from '../../../apps/usage-worker/src/webhook-delivery/webhook-delivery.processor';
import { WebhookFanoutProcessor } from '../../../apps/usage-worker/src/webhook-delivery/webhook-fanout.processor';
import { ChildProcessApp } from '../../support/child-process-app';
import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { OwnRedisServer } from '../../support/own-redis-server';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';
import { addHookEndpoint, commitOutboxEvents, HookReceiver } from '../../support/webhook-fixtures';

/**
 * Fault tests of webhook delivery (docs/performance.md#targets: killing the worker
 * or restarting Redis loses no webhook). Each counts distinct webhook-ids at a
 * subscriber on 127.0.0.1: every committed event must arrive at least once.
 * Duplicates are allowed only where at-least-once allows them (an attempt sent but
 * not recorded when its worker or Redis died), and asserted to be zero where the
 * design rules them out.
 */

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Commits `total` events in batches of `batch`, one batch every `everyMs`: a stream the faults land in the middle of. */
async function commitStream(app: TestApp, orgId: string, total: number, batch: number, everyMs: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < total) {
    ids.push(...(await commitOutboxEvents(app.app, orgId, Math.min(batch, total - ids.length))));
    await sleep(everyMs);
  }
  return ids;
}

async function deliveryStatuses(app: TestApp): Promise<Record<string, number>> {
  const rows: { status: string; count: string }[] = await app.app
    .get(EntityManager)
    .fork()
    .execute('select status, count(*) as count from webhook_deliveries group by status');
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

function missing(ids: string[], receiver: HookReceiver): string[] {
  return ids.filter((id) => !receiver.firstSeen.has(id));
}

describe('usage-worker: webhook delivery under faults', () => {
  const receivers: HookReceiver[] = [];

  async function receiver(): Promise<HookReceiver> {
    const started = await HookReceiver.start();
    receivers.push(started);
    return started;
  }

  afterAll(async () => {
    await Promise.all(receivers.map((started) => started.close()));
  });

  it('(a) the worker process is SIGKILLed mid-delivery and another started: every event arrives', async () => {
    const env = await TestEnvironment.create();
    // The test side runs org-api only (sign-up, endpoints, outbox rows): all relaying and delivery happen in the children.
    const sut = await TestApp.start({ env, config: { TARGET: 'org-api', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    const workerEnv = {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      TARGET: 'usage-worker',
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: SHARED_REDIS,
      REDIS_PREFIX: env.redisPrefix,
      ENCRYPTION_KEY: sut.config.ENCRYPTION_KEY,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms,1s,1s,1s,1s,1s',
    };
    let worker: ChildProcessApp | undefined;
    try {
      const hook = await receiver();
      hook.delayMs = 300; // slow subscriber: a kill always finds sends in flight
      const { orgId } = await signUp(sut);
      await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/a'));
      await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/b'));
      worker = await ChildProcessApp.start(workerEnv);

      const stream = commitStream(sut, orgId, 150, 10, 50);
      await waitUntil(() => hook.distinct >= 20, 20_000, 'deliveries to be under way');
      await worker.kill();
      const killedAt = Date.now();
      worker = await ChildProcessApp.start(workerEnv);
      const ids = await stream;

      // Jobs the dead worker held come back once their locks expire (BullMQ's stalled check).
      await waitUntil(
        () => missing(ids, hook).length === 0,
        60_000,
        () => `${missing(ids, hook).length} events still missing`,
      );
      // Every delivery (2 endpoints × 150 events) succeeded per the delivery log too.
      await waitUntil(async () => (await deliveryStatuses(sut)).succeeded === 300, 30_000, 'every delivery to be recorded as succeeded');
      const perEndpoint = (suffix: string) => new Set(hook.requests.filter((r) => r.path === suffix).map((r) => r.webhookId)).size;
      expect(perEndpoint('/a')).toBe(150);
      expect(perEndpoint('/b')).toBe(150);
      const redelivered = hook.requests.length - 300;
      // Redeliveries: only attempts that reached the subscriber but were never recorded, i.e. jobs the
      // killed process had active — at most its concurrency. Nothing else is sent twice.
      expect(redelivered).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
      console.log(
        `worker kill: 300 deliveries, ${hook.requests.length} requests (${redelivered} at-least-once redeliveries), healed ${Date.now() - killedAt} ms after the kill`,
      );
    } finally {
      await worker?.stop();
      await sut.close();
      await env.destroy();
    }
  }, 150_000);

  it('(b) Redis (AOF, appendfsync always) is killed -9 and restarted on the same port and dir mid-stream: every event arrives', async () => {
    const redis = await OwnRedisServer.start({ durable: true });
    const sut = await TestApp.start({
      config: {
        TARGET: 'org-api,usage-worker',
        REDIS_URL: redis.url,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms,1s,1s,1s,1s,1s',
      },
    });
    try {
      const hook = await receiver();
      hook.delayMs = 50;
      const { orgId } = await signUp(sut);
      await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/r'));

      const stream = commitStream(sut, orgId, 200, 10, 50);
      await waitUntil(() => hook.distinct >= 30, 20_000, 'deliveries to be under way');
      await redis.kill();
      const deliveredAtKill = hook.distinct;
      await sleep(1_000); // committed meanwhile: the outbox holds them
      await redis.restart();
      const ids = await stream;
      expect(deliveredAtKill).toBeLessThan(200); // the outage did land mid-stream

      await waitUntil(
        () => missing(ids, hook).length === 0,
        60_000,
        () => `${missing(ids, hook).length} events still missing`,
      );
      await waitUntil(async () => (await deliveryStatuses(sut)).succeeded === 200, 30_000, 'every delivery to be recorded as succeeded');
      // Jobs active at the kill are recorded in the AOF as active; their locks expire and they run again.
      expect(hook.requests.length - 200).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
      console.log(
        `redis restart: 200 events (${deliveredAtKill} delivered at the kill), ${hook.requests.length} requests (${hook.requests.length - 200} at-least-once redeliveries)`,
      );
    } finally {
      await sut.close();
      await redis.stop();
    }
  }, 150_000);

  it('(c) the outbox relay is restarted (and crashes between enqueue and commit) mid-stream: nothing lost, nothing relayed twice', async () => {
    const sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    try {
      const hook = await receiver();
      const { orgId } = await signUp(sut);
      await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/c'));

      // Count fan-outs per event: an event relayed twice would be fanned out twice.
      const fanout = sut.app.get(WebhookFanoutProcessor);
      const fannedOut = new Map<string, number>();
      const original = fanout.fanOut.bind(fanout);
      jest.spyOn(fanout, 'fanOut').mockImplementation((event: DomainEvent) => {
        fannedOut.set(event.id, (fannedOut.get(event.id) ?? 0) + 1);
        return original(event);
      });
      // Crashes between "enqueued" and "marked relayed": the batch's transaction rolls back and it is sent again.
      const producer = sut.app.get(EventsQueueProducer);
      const enqueue = producer.enqueueEvents.bind(producer);
      let crashes = 0;
      let resent = 0;
      jest.spyOn(producer, 'enqueueEvents').mockImplementation(async (events) => {
        await enqueue(events);
        if (crashes < 3 && events.length > 0) {
          crashes += 1;
          resent += events.length;
          throw new Error('relay crashed after enqueue, before commit');
        }
      });

      const relay = sut.app.get(OutboxRelayService);
      const stream = commitStream(sut, orgId, 300, 10, 20);
      for (let restart = 0; restart < 5; restart += 1) {
        await sleep(150);
        await relay.beforeApplicationShutdown();
        await sleep(100); // stopped: events keep being committed
        relay.onApplicationBootstrap();
      }
      const ids = await stream;

      await waitUntil(
        () => missing(ids, hook).length === 0,
        30_000,
        () => `${missing(ids, hook).length} events still missing`,
      );
      await waitUntil(async () => (await deliveryStatuses(sut)).succeeded === 300, 10_000, 'every delivery to be recorded as succeeded');
      await sleep(500); // room for any duplicate to show up
      expect(crashes).toBe(3);
      expect(resent).toBeGreaterThan(0);
      // Relayed twice, yet fanned out once: the events queue's job id is the event id (and completed jobs are kept a day).
      expect([...fannedOut.values()].every((count) => count === 1)).toBe(true);
      expect(fannedOut.size).toBe(300);
      // Nothing in this test fails a send, so no retries either: each webhook-id arrives exactly once.
      expect(hook.duplicates().size).toBe(0);
      expect(hook.requests).toHaveLength(300);
      const rows = await sut.app.get(EntityManager).fork().count(WebhookDelivery, { status: DeliveryStatus.Succeeded });
      expect(rows).toBe(300);
    } finally {
      jest.restoreAllMocks();
      await sut.close();
    }
  }, 90_000);
});
