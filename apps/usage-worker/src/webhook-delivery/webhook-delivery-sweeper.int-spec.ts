import { Queue } from 'bullmq';

import { EventType, WEBHOOK_DELIVERIES_QUEUE, webhookDeliveryJob, webhookDeliveryJobId } from '@latchkey/contracts';
import { DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { MetricsService, RedisService } from '@latchkey/platform';

import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { waitUntil } from '../../../../test/support/wait-until';
import { addHookEndpoint, HookReceiver } from '../../../../test/support/webhook-fixtures';
import { EndpointDisabling } from './endpoint-disabling';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { WEBHOOK_SWEEP_EVERY_MS, WEBHOOK_SWEEP_JOB, WEBHOOK_SWEEP_QUEUE, WebhookDeliverySweeper } from './webhook-delivery-sweeper';
import { WebhookDeliveryMetrics } from './webhook-delivery.metrics';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';

/**
 * The pending-delivery sweeper: deliveries `pending` and overdue whose job is gone
 * (a Redis that lost data, an org-api retry whose enqueue failed) are queued again
 * under their next attempt's job id, which makes the sweep idempotent. The delivery
 * worker runs beside it, so a re-queued job is sent to a real subscriber.
 */
describe(WebhookDeliverySweeper.name, () => {
  let harness: ServiceHarness;
  let sweeper: WebhookDeliverySweeper;
  let receiver: HookReceiver;
  let deliveries: Queue;
  let sweeps: Queue;
  let orgId: string;
  let endpointId: string;

  /** A pending delivery with no job, as a lost job leaves it; due `overdueMs` ago. */
  async function strandedDelivery(attemptCount: number, overdueMs = 30_000): Promise<string> {
    const id = newId(IdPrefix.Delivery);
    const eventId = newId(IdPrefix.Event);
    await harness.sql(
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

  const delivery = (id: string) => harness.em().findOneOrFail(WebhookDelivery, { id });
  const settle = (id: string) => harness.em().nativeUpdate(WebhookDelivery, { id }, { status: DeliveryStatus.Failed });

  beforeAll(async () => {
    harness = await ServiceHarness.start({
      config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '200ms,400ms' },
      providers: [
        EndpointDisabling,
        MetricsService,
        RedisService,
        WebhookDeliveriesProducer,
        WebhookDeliveryMetrics,
        WebhookDeliveryProcessor,
        WebhookDeliverySweeper,
      ],
    });
    sweeper = harness.get(WebhookDeliverySweeper);
    receiver = await HookReceiver.start();
    orgId = (await seedOrg(harness.em())).orgId;
    endpointId = await addHookEndpoint(harness, harness.config.ENCRYPTION_KEY, orgId, receiver.url());
    deliveries = harness.queue(WEBHOOK_DELIVERIES_QUEUE);
    sweeps = harness.queue(WEBHOOK_SWEEP_QUEUE);
  });

  afterAll(async () => {
    await harness?.close();
    await receiver?.close();
  });

  it('registers its job scheduler (every minute) in BullMQ as it starts, unasked', async () => {
    await waitUntil(async () => (await sweeps.getJobSchedulers()).length > 0, 5_000, 'the scheduler');
    expect(await sweeps.getJobSchedulers()).toEqual([
      expect.objectContaining({ key: WEBHOOK_SWEEP_JOB, every: WEBHOOK_SWEEP_EVERY_MS, name: WEBHOOK_SWEEP_JOB }),
    ]);
  });

  it('registers one job scheduler in BullMQ (every minute), whatever the number of processes', async () => {
    await waitUntil(async () => (await sweeps.getJobSchedulers()).length > 0, 5_000, 'the scheduler');
    // A second process upserts the same scheduler: still one.
    await sweeper.ensureSchedule();
    expect(await sweeps.getJobSchedulers()).toEqual([
      expect.objectContaining({ key: WEBHOOK_SWEEP_JOB, every: WEBHOOK_SWEEP_EVERY_MS, name: WEBHOOK_SWEEP_JOB }),
    ]);
  });

  it('re-enqueues a pending first attempt whose job was lost, and it is delivered', async () => {
    const id = await strandedDelivery(0);
    const result = await sweeper.sweep(10_000);
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
    expect(await delivery(id)).toMatchObject({ attemptCount: 1, lastStatusCode: 200 });
  });

  it('re-enqueues the next attempt (attempt_count + 1) of a retry whose enqueue failed', async () => {
    const id = await strandedDelivery(2);
    await sweeper.sweep(10_000);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept retry to succeed');
    expect(await delivery(id)).toMatchObject({ attemptCount: 3 });
    expect(await harness.em().count(WebhookDeliveryAttempt, { delivery: id })).toBe(1);
  });

  it('leaves alone a delivery whose job exists (delayed, held): sweeping adds nothing', async () => {
    const id = await strandedDelivery(1);
    const job = webhookDeliveryJob(id, 2, 60_000);
    await deliveries.add(job.name, job.data, job.opts);
    const result = await sweeper.sweep(10_000);
    expect(result).toMatchObject({ requeued: 0, retried: 0 });
    expect(await deliveries.getJobState(job.opts.jobId!)).toBe('delayed');
    expect(await deliveries.getJobCounts('wait', 'active', 'delayed')).toMatchObject({ delayed: 1 });
    await deliveries.remove(job.opts.jobId!);
    // Tidy: not pending any more, so later sweeps skip it.
    await settle(id);
  });

  it('is idempotent: sweeps racing each other send a lost delivery once', async () => {
    const id = await strandedDelivery(0);
    const before = receiver.requests.length;
    await Promise.all([sweeper.sweep(10_000), sweeper.sweep(10_000), sweeper.sweep(10_000)]);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
    // Succeeded: no longer pending, so a later sweep finds nothing to re-enqueue.
    expect(await sweeper.sweep(10_000)).toMatchObject({ requeued: 0, retried: 0 });
    // Every job the racing sweeps added has run once the queue holds none of them.
    await waitUntil(async () => (await deliveries.getJobCounts('wait', 'active', 'delayed')).wait === 0, 5_000, 'the queue to drain');
    await waitUntil(async () => (await deliveries.getJobCounts('active')).active === 0, 5_000, 'no job in hand');
    const eventId = (await delivery(id)).eventId;
    expect(receiver.requests.slice(before).filter((request) => request.webhookId === eventId)).toHaveLength(1);
  });

  it('ignores deliveries due within the margin (their job may be on its way)', async () => {
    const id = await strandedDelivery(0, 1_000);
    const result = await sweeper.sweep(60_000);
    expect(result.requeued).toBe(0);
    expect(await deliveries.getJobState(webhookDeliveryJobId(id, 1))).toBe('unknown');
    await settle(id);
  });

  it('retries a job BullMQ failed for good (e.g. stalled twice by crashed workers) while its delivery is pending', async () => {
    const id = await strandedDelivery(0);
    const job = webhookDeliveryJob(id, 1, 3_600_000);
    const jobId = job.opts.jobId!;
    await deliveries.add(job.name, job.data, job.opts);
    // Make it failed the way BullMQ leaves one: out of `delayed`, into `failed`, with a reason.
    await harness
      .redis()
      .multi()
      .zrem(deliveries.toKey('delayed'), jobId)
      .zadd(deliveries.toKey('failed'), Date.now(), jobId)
      .hset(deliveries.toKey(jobId), 'failedReason', 'job stalled more than allowable limit', 'finishedOn', Date.now(), 'atm', 10)
      .exec();
    expect(await deliveries.getJobState(jobId)).toBe('failed');
    const result = await sweeper.sweep(10_000);
    expect(result.retried).toBe(1);
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the retried delivery to succeed');
  });

  it('runs as a BullMQ job: a sweep job on its queue re-enqueues a lost delivery', async () => {
    const id = await strandedDelivery(0);
    await sweeps.add(WEBHOOK_SWEEP_JOB, { margin_ms: 10_000 });
    await waitUntil(async () => (await delivery(id)).status === DeliveryStatus.Succeeded, 5_000, 'the swept delivery to succeed');
  });

  it('heals a Redis that lost everything: the scheduler is upserted again on reconnection', async () => {
    await sweeps.removeJobScheduler(WEBHOOK_SWEEP_JOB);
    expect(await sweeps.getJobSchedulers()).toEqual([]);
    // A reconnection (as after a Redis restart) re-creates it.
    const internals = sweeper as unknown as { scheduleQueue: Queue };
    (await internals.scheduleQueue.client).disconnect(true);
    await waitUntil(async () => (await sweeps.getJobSchedulers()).length === 1, 10_000, 'the scheduler to come back');
  });
});
