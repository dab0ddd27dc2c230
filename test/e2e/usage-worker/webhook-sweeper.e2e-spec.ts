import { Queue } from 'bullmq';

import { bullPrefix } from '@latchkey/contracts';

import {
  WEBHOOK_SWEEP_EVERY_MS,
  WEBHOOK_SWEEP_JOB,
  WEBHOOK_SWEEP_QUEUE,
} from '../../../apps/usage-worker/src/webhook-delivery/webhook-delivery-sweeper';
import { TestApp } from '../../support/create-test-app';
import { waitUntil } from '../../support/wait-until';

/**
 * The pending-delivery sweeper as a deployment runs it: the usage-worker process
 * registers its scheduler in Redis at boot. What a sweep does is tested against the
 * sweeper itself (webhook-delivery-sweeper.int-spec.ts).
 */
describe('usage-worker: webhook pending-delivery sweeper', () => {
  let sut: TestApp;
  let sweeps: Queue;

  beforeAll(async () => {
    sut = await TestApp.start();
    sweeps = new Queue(WEBHOOK_SWEEP_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
  });

  afterAll(async () => {
    await sweeps.close();
    await sut.close();
  });

  it('registers its job scheduler (every minute) in BullMQ at boot', async () => {
    await waitUntil(async () => (await sweeps.getJobSchedulers()).length > 0, 5_000, 'the scheduler');
    expect(await sweeps.getJobSchedulers()).toEqual([
      expect.objectContaining({ key: WEBHOOK_SWEEP_JOB, every: WEBHOOK_SWEEP_EVERY_MS, name: WEBHOOK_SWEEP_JOB }),
    ]);
  });
});
