import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';
import Redis from 'ioredis';

import { UsageBatchJobData } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { counted, createTenant, enqueueAll, makeBatches, rawEnv, Tenant, usageQueue, waitUntilDrained } from './usage-fault-helpers';

/**
 * A redis-server of this test's own, with AOF on (fsync always) in a temporary
 * directory: killed with SIGKILL and started again on the same port and directory,
 * as a production Redis set up the way the README asks. The shared Redis keeps
 * nothing on disk and is never touched.
 */
class DurableRedis {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis({
        port: this.port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await probe.connect();
        // Up and done loading the AOF.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await sleep(50);
    }
    throw new Error(`redis-server did not start on ${this.port}`);
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('usage fault: Redis restarted (kill -9) during load', () => {
  let tenant: Tenant;
  let redis: DurableRedis;
  let queue: Queue<UsageBatchJobData>;
  let worker: TestApp | undefined;
  let dir: string;

  beforeAll(async () => {
    tenant = await createTenant();
    dir = mkdtempSync(path.join(tmpdir(), 'latchkey-redis-'));
    redis = new DurableRedis(await freePort(), dir);
    await redis.start();
    queue = usageQueue(tenant, redis.url);
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await redis?.kill();
    await tenant?.env.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
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
    await redis.start();

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
