import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';

import { UsageBatchJobData } from '@latchkey/contracts';

import { ChildProcessApp } from '../../support/child-process-app';
import { counted, createTenant, enqueueAll, makeBatches, rawEnv, Tenant, usageQueue, waitUntilDrained } from './usage-fault-helpers';

/**
 * Fault: the usage worker is killed with SIGKILL in the middle of its batches and
 * another one is started. The batches the dead worker held are taken over by
 * BullMQ's stalled-job check (lock 15 s, check every 5 s: see RecordUsageProcessor) and counted once: nothing lost, nothing twice.
 */
describe('usage fault: worker killed with SIGKILL mid-batch', () => {
  let tenant: Tenant;
  let queue: Queue<UsageBatchJobData>;
  const workers: ChildProcessApp[] = [];

  beforeAll(async () => {
    tenant = await createTenant();
    queue = usageQueue(tenant);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.kill();
    await queue?.close();
    await tenant?.env.destroy();
  });

  it('counts every enqueued batch exactly once after a SIGKILL and a restart', async () => {
    const batches = makeBatches(tenant, 400, 40);
    await enqueueAll(queue, batches.jobs);

    const env = rawEnv(tenant, { TARGET: 'usage-worker' });
    const first = await ChildProcessApp.start(env);
    workers.push(first);
    // Kill it once it is well into the work, while it holds batches.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const progress = await counted(tenant);
      if (progress.batches >= 40) break;
      if (Date.now() > deadline) throw new Error(`first worker made no progress: ${first.output}`);
      await sleep(10);
    }
    await first.kill();
    const atKill = await counted(tenant);
    const heldAtKill = await queue.getJobCounts('active', 'waiting');
    expect(atKill.batches).toBeLessThan(batches.jobs.length);
    // The dead worker left batches in hand (still "active", their locks ticking down).
    expect(heldAtKill.active).toBeGreaterThan(0);

    const second = await ChildProcessApp.start(env);
    const done = await waitUntilDrained(tenant, batches.events, 45_000, () => queue.getJobCounts('active', 'waiting', 'delayed', 'failed'));

    expect(done.codes).toEqual(batches.expected);
    expect(done.batches).toBe(batches.jobs.length);
    expect(done.logs).toBe(batches.events);
    // Held over a few seconds more: nothing is counted late a second time.
    await sleep(1_500);
    expect(await counted(tenant)).toEqual(done);
    expect(await queue.getJobCounts('active', 'waiting', 'delayed', 'failed')).toMatchObject({
      active: 0,
      waiting: 0,
      delayed: 0,
      failed: 0,
    });
    await second.stop();
  }, 150_000);
});
