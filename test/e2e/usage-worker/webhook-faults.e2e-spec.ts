import { setTimeout as sleep } from 'node:timers/promises';

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
 * design rules them out. A restarted outbox relay (and one crashing between enqueue
 * and commit) is in apps/usage-worker/src/outbox-relay/outbox-relay.service.int-spec.ts.
 */

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The worker's delivery concurrency (DELIVERY_CONCURRENCY in the usage worker's
 * webhook-delivery.processor.ts): the most sends a dead worker or Redis can leave
 * reached but unrecorded.
 */
const DELIVERY_CONCURRENCY = 32;

/** Commits `total` events in batches of `batch`, one batch every `everyMs`: a stream the faults land in the middle of. */
async function commitStream(app: TestApp, orgId: string, total: number, batch: number, everyMs: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < total) {
    ids.push(...(await commitOutboxEvents(app.app, orgId, Math.min(batch, total - ids.length))));
    await sleep(everyMs);
  }
  return ids;
}

/** Succeeded deliveries to `endpointIds`, as the organisation reads its delivery log (GET /v1/webhooks/:id/deliveries). */
async function succeededDeliveries(app: TestApp, token: string, endpointIds: string[]): Promise<number> {
  let total = 0;
  for (const id of endpointIds) {
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: unknown[]; has_more: boolean; next_cursor: string | null } } = await app.get(
        `/v1/webhooks/${id}/deliveries`,
        {
          token,
          query: { status: 'succeeded', limit: '100', ...(cursor ? { cursor } : {}) },
        },
      );
      expect(page.status).toBe(200);
      total += page.body.data.length;
      cursor = page.body.has_more ? page.body.next_cursor : null;
    } while (cursor);
  }
  return total;
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
      const { orgId, token } = await signUp(sut);
      const endpoints = [
        await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/a')),
        await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/b')),
      ];
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
      await waitUntil(
        async () => (await succeededDeliveries(sut, token, endpoints)) === 300,
        30_000,
        'every delivery to be recorded as succeeded',
      );
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
      const { orgId, token } = await signUp(sut);
      const endpoints = [await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, hook.url('/r'))];

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
      await waitUntil(
        async () => (await succeededDeliveries(sut, token, endpoints)) === 200,
        30_000,
        'every delivery to be recorded as succeeded',
      );
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
});
