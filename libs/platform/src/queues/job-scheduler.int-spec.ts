import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { AppConfig } from '@latchkey/config';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { waitUntil } from '../../../../test/support/wait-until';
import { closeBullmq } from './close-bullmq';
import { createProducerQueue } from './create-queue';
import { keepJobScheduler } from './job-scheduler';

describe(`${keepJobScheduler.name} against Redis`, () => {
  let env: TestEnvironment;
  let queue: Queue<{ run: string }>;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
    queue = createProducerQueue<{ run: string }>('job-scheduler-probe', new AppConfig(env.config()), new Logger('probe'));
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await closeBullmq(queue);
    await env.destroy();
  });

  const scheduler = () => queue.getJobScheduler('probe-every-minute');

  it('places the scheduler with its first run, and places it again when Redis comes back without it', async () => {
    const kept = keepJobScheduler(
      queue,
      { id: 'probe-every-minute', everyMs: 60_000, job: { name: 'probe', data: { run: 'yes' } }, label: 'the probe' },
      new Logger('probe'),
    );
    try {
      await waitUntil(async () => (await scheduler()) !== undefined, 5_000, 'the scheduler');
      expect(await scheduler()).toMatchObject({ key: 'probe-every-minute', every: 60_000, name: 'probe' });
      const [first] = await queue.getJobs(['delayed', 'waiting']);
      expect(first.data).toEqual({ run: 'yes' });

      // As if Redis restarted empty: the scheduler is gone, and the connection comes back.
      await queue.removeJobScheduler('probe-every-minute');
      expect(await scheduler()).toBeUndefined();
      const client = (await queue.client) as unknown as Redis;
      client.disconnect(true);

      await waitUntil(async () => (await scheduler()) !== undefined, 5_000, 'the scheduler placed again');
    } finally {
      kept.stop();
    }
  });
});
