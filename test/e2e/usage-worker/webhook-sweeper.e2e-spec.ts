import { EntityManager } from '@mikro-orm/postgresql';
import { Queue } from 'bullmq';
import Redis from 'ioredis';

import {
  bullPrefix,
  EventType,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOK_DELIVERY_JOB,
  WEBHOOK_DELIVERY_JOB_OPTIONS,
  webhookDeliveryJobId,
} from '@latchkey/contracts';
import { DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import {
  WEBHOOK_SWEEP_EVERY_MS,
  WEBHOOK_SWEEP_JOB,
  WEBHOOK_SWEEP_QUEUE,
  WebhookDeliverySweeper,
} from '../../../apps/usage-worker/src/webhook-delivery/webhook-delivery-sweeper';
import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { addHookEndpoint, HookReceiver } from '../../support/webhook-fixtures';

/**
 * The pending-delivery sweeper: deliveries `pending` and overdue whose job is gone
 * (a Redis that lost data, an org-api retry whose enqueue failed) are queued again
 * under their next attempt's job id, which makes the sweep idempotent.
 */
describe('usage-worker: webhook pending-delivery sweeper', () => {
  let sut: TestApp;
  let receiver: HookReceiver;
  let deliveries: Queue;
  let orgId: string;
  let endpointId: string;

  /** A pending delivery with no job, as a lost job leaves it; due `overdueMs` ago. */
  async function strandedDelivery(attemptCount: number, overdueMs = 30_000): Promise<string> {
    const em = sut.app.get(EntityManager).fork();
    const id = newId(IdPrefix.Delivery);
    const eventId = newId(IdPrefix.Event);
    await em.execute(
      `insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, payload, status, attempt_count, next_attempt_at, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?::jsonb, 'pending', ?, ?, now(), now())`,
      [
        id,
        orgId,
        endpointId,
        eventId,
        EventType.ApiKeyCreated,
        JSON.stringify({
          id: eventId,
          type: EventType.ApiKeyCreated,
          created_at: new Date().toISOString(),
          org_id: orgId,
          environment: 'test',
          data: {},
        }),
        attemptCount,
        new Date(Date.now() - overdueMs),
      ],
    );
    return id;
  }

  async function delivery(id: string): Promise<WebhookDelivery> {
    return sut.app.get(EntityManager).fork().findOneOrFail(WebhookDelivery, { id });
  }

  beforeAll(async () => {
    sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '200ms,400ms' } });
    receiver = await HookReceiver.start();
    orgId = (await signUp(sut)).orgId;
    endpointId = await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, orgId, receiver.url());
    deliveries = new Queue(WEBHOOK_DELIVERIES_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
  });

  afterAll(async () => {
    await deliveries.close();
    await sut.close();
    await receiver.close();
  });

  it('registers one job scheduler in BullMQ (every minute), whatever the number of processes', async () => {
    const sweeps = new Queue(WEBHOOK_SWEEP_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
    try {
      await waitUntil(async () => (await sweeps.getJobSchedulers()).length > 0, 5_000, 'the scheduler');
      // A second process upserts the same scheduler: still one.
      await sut.app.get(WebhookDeliverySweeper).ensureSchedule();
      const schedulers = await sweeps.getJobSchedulers();
      expect(schedulers).toEqual([
        expect.objectContaining({ key: WEBHOOK_SWEEP_JOB, every: WEBHOOK_SWEEP_EVERY_MS, name: WEBHOOK_SWEEP_JOB }),
      ]);
    } finally {
      await sweeps.close();
    }
  });

  it('re-enqueues a pending first attempt whose job was lost, and it is delivered', async () => {
    const id = await strandedDelivery(0);
    const result = await sut.app.get(WebhookDeliverySweeper).sweep(10_000);
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
    expect(await delivery(id)).toMatchObject({ attemptCount: 1, lastStatusCode: 200 });
  });

  it('re-enqueues the next attempt (attempt_count + 1) of a retry whose enqueue failed', async () => {
    const id = await strandedDelivery(2);
    await sut.app.get(WebhookDeliverySweeper).sweep(10_000);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept retry to succeed');
    expect(await delivery(id)).toMatchObject({ attemptCount: 3 });
    const attempts = await sut.app.get(EntityManager).fork().count(WebhookDeliveryAttempt, { delivery: id });
    expect(attempts).toBe(1);
  });

  it('leaves alone a delivery whose job exists (delayed, held): sweeping adds nothing', async () => {
    const id = await strandedDelivery(1);
    const jobId = webhookDeliveryJobId(id, 2);
    await deliveries.add(WEBHOOK_DELIVERY_JOB, { delivery_id: id }, { ...WEBHOOK_DELIVERY_JOB_OPTIONS, jobId, delay: 60_000 });
    const result = await sut.app.get(WebhookDeliverySweeper).sweep(10_000);
    expect(result).toMatchObject({ requeued: 0, retried: 0 });
    expect(await deliveries.getJobState(jobId)).toBe('delayed');
    expect(await deliveries.getJobCounts('wait', 'active', 'delayed')).toMatchObject({ delayed: 1 });
    await deliveries.remove(jobId);
    // Tidy: not pending any more, so later sweeps skip it.
    await sut.app.get(EntityManager).fork().nativeUpdate(WebhookDelivery, { id }, { status: DeliveryStatus.Failed });
  });

  it('is idempotent: sweeps racing each other send a lost delivery once', async () => {
    const id = await strandedDelivery(0);
    const before = receiver.requests.length;
    const sweeper = sut.app.get(WebhookDeliverySweeper);
    await Promise.all([sweeper.sweep(10_000), sweeper.sweep(10_000), sweeper.sweep(10_000)]);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
    await sweeper.sweep(10_000); // succeeded: no longer pending, nothing to do
    await new Promise((resolve) => setTimeout(resolve, 300));
    const eventId = (await delivery(id)).eventId;
    expect(receiver.requests.slice(before).filter((request) => request.webhookId === eventId)).toHaveLength(1);
  });

  it('ignores deliveries due within the margin (their job may be on its way)', async () => {
    const id = await strandedDelivery(0, 1_000);
    const result = await sut.app.get(WebhookDeliverySweeper).sweep(60_000);
    expect(result.requeued).toBe(0);
    expect(await deliveries.getJobState(webhookDeliveryJobId(id, 1))).toBe('unknown');
    await sut.app.get(EntityManager).fork().nativeUpdate(WebhookDelivery, { id }, { status: DeliveryStatus.Failed });
  });

  it('retries a job BullMQ failed for good (e.g. stalled twice by crashed workers) while its delivery is pending', async () => {
    const id = await strandedDelivery(0);
    const jobId = webhookDeliveryJobId(id, 1);
    await deliveries.add(WEBHOOK_DELIVERY_JOB, { delivery_id: id }, { ...WEBHOOK_DELIVERY_JOB_OPTIONS, jobId, delay: 3_600_000 });
    // Make it failed the way BullMQ leaves one: out of `delayed`, into `failed`, with a reason.
    const redis = new Redis(sut.config.REDIS_URL);
    try {
      await redis
        .multi()
        .zrem(deliveries.toKey('delayed'), jobId)
        .zadd(deliveries.toKey('failed'), Date.now(), jobId)
        .hset(deliveries.toKey(jobId), 'failedReason', 'job stalled more than allowable limit', 'finishedOn', Date.now(), 'atm', 10)
        .exec();
    } finally {
      redis.disconnect();
    }
    expect(await deliveries.getJobState(jobId)).toBe('failed');
    const result = await sut.app.get(WebhookDeliverySweeper).sweep(10_000);
    expect(result.retried).toBe(1);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the retried delivery to succeed');
  });

  it('runs as a BullMQ job: a sweep job on its queue re-enqueues a lost delivery', async () => {
    const id = await strandedDelivery(0);
    const sweeps = new Queue(WEBHOOK_SWEEP_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
    try {
      await sweeps.add(WEBHOOK_SWEEP_JOB, { margin_ms: 10_000 });
      await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
    } finally {
      await sweeps.close();
    }
  });

  it('heals a Redis that lost everything: the scheduler is upserted again on reconnection', async () => {
    const sweeps = new Queue(WEBHOOK_SWEEP_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
    try {
      await sweeps.removeJobScheduler(WEBHOOK_SWEEP_JOB);
      expect(await sweeps.getJobSchedulers()).toEqual([]);
      // A reconnection (as after a Redis restart) re-creates it.
      const sweeper: WebhookDeliverySweeper = sut.app.get(WebhookDeliverySweeper);
      const internals = sweeper as unknown as { scheduleQueue: Queue };
      const client = await internals.scheduleQueue.client;
      client.disconnect(true);
      await waitUntil(async () => (await sweeps.getJobSchedulers()).length === 1, 10_000, 'the scheduler to come back');
    } finally {
      await sweeps.close();
    }
  });
});
