import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';

import { UsageBatchJobData } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { metricSum } from '../../support/metrics-text';
import { TcpProxy } from '../../support/tcp-proxy';
import { counted, createTenant, enqueueAll, makeBatches, rawEnv, Tenant, usageQueue, waitUntilDrained } from './usage-fault-helpers';

/**
 * Fault: Postgres unreachable for a while, for the worker only — its DATABASE_URL
 * goes through a TCP proxy this test cuts (the shared Postgres is never stopped).
 * Batches fail, are retried with back-off, and every one is counted exactly once
 * after the connection comes back, without restarting the worker.
 */
describe('usage fault: Postgres unreachable for a while', () => {
  let tenant: Tenant;
  let queue: Queue<UsageBatchJobData>;
  let proxy: TcpProxy;
  let worker: TestApp | undefined;

  beforeAll(async () => {
    tenant = await createTenant();
    queue = usageQueue(tenant);
    const target = new URL(tenant.env.databaseUrl);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  });

  afterAll(async () => {
    proxy?.restore();
    await worker?.close();
    await proxy?.close();
    await queue?.close();
    await tenant?.env.destroy();
  });

  /** A metric of the worker summed over its labels, as a scrape of its /metrics shows it. */
  const metric = async (name: string) => metricSum((await worker!.get('/metrics')).text, name);

  it('retries while the database is away and catches up once it is back: nothing lost, nothing twice', async () => {
    const batches = makeBatches(tenant, 300, 40);
    await enqueueAll(queue, batches.jobs);

    const viaProxy = new URL(tenant.env.databaseUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const env = rawEnv(tenant, { TARGET: 'usage-worker', DATABASE_URL: viaProxy.toString() });
    worker = await TestApp.start({ env: tenant.env, config: env });

    while ((await counted(tenant)).batches < 30) await sleep(10);
    proxy.cut();
    const atCut = await counted(tenant);
    expect(atCut.batches).toBeLessThan(batches.jobs.length);

    // Away for 6 s: nothing more is counted (the counts here are read around the proxy).
    await sleep(6_000);
    const during = await counted(tenant);
    // A transaction in flight at the cut may have committed just before it.
    expect(during.batches - atCut.batches).toBeLessThanOrEqual(4);
    expect(await metric('usage_batch_failures_total')).toBeGreaterThan(0);
    expect((await queue.getJobCounts('delayed')).delayed).toBeGreaterThan(0);

    proxy.restore();
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
    // The database above is exact. The worker's own metric can fall short by a batch: a
    // commit whose acknowledgement was lost in the cut is retried, found by its batch id
    // and acknowledged as a duplicate. It can never exceed what was sent.
    const countedByWorker = await metric('usage_events_counted_total');
    expect(countedByWorker).toBeLessThanOrEqual(batches.events);
    expect(countedByWorker).toBeGreaterThanOrEqual(batches.events - 4 * 40);
  }, 150_000);
});
