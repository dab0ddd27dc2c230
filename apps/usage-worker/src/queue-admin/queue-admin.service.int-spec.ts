import { randomUUID } from 'node:crypto';

import { USAGE_BATCH_JOB, USAGE_QUEUE, usageBatchOf } from '@latchkey/contracts';
import { MetricsService, RedisService } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { QueueAdminService } from './queue-admin.service';

/**
 * The queue depth gauges against Redis: a job parked in the usage queue by hand shows
 * in bullmq_queue_jobs at the next scrape. Bull Board's routes and the gauges as
 * /metrics serves them are test/e2e/usage-worker/usage-operations.e2e-spec.ts.
 */
describe(QueueAdminService.name, () => {
  let harness: ServiceHarness;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [MetricsService, QueueAdminService, RedisService] });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('exports queue depth per queue and state, read from Redis at scrape time', async () => {
    const queue = harness.queue(USAGE_QUEUE);
    // A delayed batch stays put for the scrape (no worker runs here, and it is due in an hour).
    await queue.add(USAGE_BATCH_JOB, usageBatchOf(`bat_${randomUUID()}`, []), { delay: 3_600_000 });
    const metrics = await harness.get(MetricsService).registry.metrics();
    expect(metrics).toMatch(/^bullmq_queue_jobs\{queue="usage-events",state="delayed"\} 1$/m);
    for (const state of ['waiting', 'active', 'failed']) {
      expect(metrics).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="usage-events",state="${state}"\\} \\d+$`, 'm'));
      expect(metrics).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="webhook-deliveries",state="${state}"\\} \\d+$`, 'm'));
    }
    expect((await harness.get(QueueAdminService).counts())[USAGE_QUEUE]).toMatchObject({ delayed: 1 });
  });
});
