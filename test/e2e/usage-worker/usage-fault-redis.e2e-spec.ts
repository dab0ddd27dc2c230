import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';

import { UsageBatchJobData } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { OwnRedisServer } from '../../support/own-redis-server';
import { counted, createTenant, enqueueAll, makeBatches, rawEnv, Tenant, usageQueue, waitUntilDrained } from './usage-fault-helpers';

describe('usage fault: Redis restarted (kill -9) during load', () => {
  let tenant: Tenant;
  let redis: OwnRedisServer;
  let queue: Queue<UsageBatchJobData>;
  let worker: TestApp | undefined;

  beforeAll(async () => {
    tenant = await createTenant();
    redis = await OwnRedisServer.start({ durable: true });
    queue = usageQueue(tenant, redis.url);
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await redis?.stop();
    await tenant?.env.destroy();
  });

  it('counts every enqueued batch exactly once across a Redis crash and restart', async () => {
    const batches = makeBatches(tenant, 400, 30);
    worker = await TestApp.start({ env: tenant.env, config: rawEnv(tenant, { TARGET: 'usage-worker', REDIS_URL: redis.url }) });

    // The producer keeps enqueueing through the outage (a failed add is retried with the same job id).
    const producing = (async () => {
      for (let i = 0; i < batches.jobs.length; i += 10) {
        await enqueueAll(queue, batches.jobs.slice(i, i + 10));
        await sleep(15);
      }
    })();

    while ((await counted(tenant)).batches < 60) await sleep(10);
    await redis.kill();
    const atCrash = await counted(tenant);
    await sleep(2_000);
    await redis.restart();

    await producing;
    expect(atCrash.batches).toBeLessThan(batches.jobs.length);
    const done = await waitUntilDrained(tenant, batches.events, 60_000, () => queue.getJobCounts('active', 'waiting', 'delayed', 'failed'));
    expect(done.codes).toEqual(batches.expected);
    expect(done.batches).toBe(batches.jobs.length);
    expect(done.logs).toBe(batches.events);
    await sleep(1_000);
    expect(await counted(tenant)).toEqual(done);
    expect(await queue.getJobCounts('active', 'waiting', 'delayed', 'failed')).toMatchObject({
      active: 0,
      waiting: 0,
      delayed: 0,
      failed: 0,
    });
  }, 150_000);
});
