import { setTimeout as sleep } from 'node:timers/promises';

import { Logger } from '@nestjs/common';
import { Job, Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { bullPrefix, USAGE_BATCH_JOB, USAGE_QUEUE, UsageBatchJobData, usageEventsOf, VerifyCode } from '@latchkey/contracts';
import { MetricsService } from '@latchkey/platform';

import { OwnRedisServer } from '../../../../test/support/own-redis-server';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { waitUntil } from '../../../../test/support/wait-until';
import { UsageEventBuffer, UsageEventBufferOptions } from './usage-event-buffer.service';
import { PendingUsageEvent } from './usage-event-ring';

const JOB_STATES = ['wait', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children', 'paused'] as const;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

type UsageQueue = Queue<UsageBatchJobData>;

function event(index: number): PendingUsageEvent {
  return {
    key_id: 'key_01TEST',
    org_id: 'org_01TEST',
    environment: 'test',
    code: VerifyCode.Valid,
    ip: '203.0.113.7',
    method: 'GET',
    path: `/e/${index}`,
    latency_us: 120,
  };
}

async function allJobs(queue: UsageQueue): Promise<Job<UsageBatchJobData>[]> {
  return queue.getJobs([...JOB_STATES], 0, -1, true);
}

async function sentPaths(queue: UsageQueue): Promise<string[]> {
  return (await allJobs(queue)).flatMap((job) => usageEventsOf(job.data).map((item) => item.path!));
}

async function metricValue(metrics: MetricsService, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, sample) => sum + sample.value, 0) ?? NaN;
}

async function close(sut: UsageEventBuffer): Promise<void> {
  await sut.beforeApplicationShutdown();
  await sut.onApplicationShutdown();
}

describe(UsageEventBuffer.name, () => {
  let env: TestEnvironment;
  let testSeq = 0;
  const queues: UsageQueue[] = [];
  const open: UsageEventBuffer[] = [];

  /**
   * Each test gets its own prefix, so its queue starts empty. The test's own queue is
   * connected before it returns: an outage test kills Redis next, and a queue whose first
   * connect was cut never recovers (nor closes cleanly).
   */
  async function build(overrides: Record<string, string> = {}, options?: UsageEventBufferOptions) {
    const config = new AppConfig(env.config({ REDIS_PREFIX: `${env.redisPrefix}:t${++testSeq}`, ...overrides }));
    const metrics = new MetricsService();
    const sut = new UsageEventBuffer(config, metrics, options);
    open.push(sut);
    const queue = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
      prefix: bullPrefix(config.get('REDIS_PREFIX')),
      connection: {
        url: config.get('REDIS_URL'),
        maxRetriesPerRequest: 1,
        retryStrategy: (attempt: number) => Math.min(attempt * 100, 500),
      },
    });
    queue.on('error', () => undefined);
    queues.push(queue);
    await queue.waitUntilReady();
    return { sut, metrics, queue };
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((sut) => close(sut)));
    await Promise.all(queues.splice(0).map((queue) => queue.close().catch(() => queue.disconnect())));
  });

  afterAll(async () => {
    await env.destroy();
  });

  it('sends N events as full batches at once and the rest after USAGE_FLUSH_MS, one job per flush', async () => {
    const { sut, queue, metrics } = await build({ USAGE_BATCH_SIZE: '20', USAGE_FLUSH_MS: '300' });
    const emittedFrom = Date.now();
    for (let i = 0; i < 50; i += 1) sut.emit(event(i));
    const emittedTo = Date.now();
    await waitUntil(async () => (await allJobs(queue)).length === 2, 2_000, 'the two full batches');
    // The 10 left wait for the flush timer.
    expect((await sentPaths(queue)).length).toBe(40);
    await waitUntil(async () => (await sentPaths(queue)).length === 50, 2_000, 'the timed flush');

    const jobs = await allJobs(queue);
    expect(jobs.map((job) => usageEventsOf(job.data).length).sort((a, b) => a - b)).toEqual([10, 20, 20]);
    expect((await sentPaths(queue)).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `/e/${i}`).sort());
    for (const job of jobs) {
      expect(job.name).toBe(USAGE_BATCH_JOB);
      expect(job.id).toBe(job.data.batch_id);
      expect(job.id).toMatch(ULID);
      // The compact form (UsageColumns): each distinct string once.
      expect(job.data).toEqual({
        batch_id: job.id,
        columns: expect.objectContaining({ strings: expect.arrayContaining(['key_01TEST', 'VALID']) }),
      });
      expect(job.opts).toMatchObject({ attempts: 20, removeOnComplete: { age: 86_400 }, removeOnFail: false });
    }
    expect(usageEventsOf(jobs[0].data)[0]).toEqual(expect.objectContaining({ key_id: 'key_01TEST', code: 'VALID', latency_us: 120 }));
    // Stamped when emitted, sent as ISO-8601 (the queue contract).
    for (const sent of jobs.flatMap((job) => usageEventsOf(job.data))) {
      expect(sent.at).toBe(new Date(sent.at).toISOString());
      expect(Date.parse(sent.at)).toBeGreaterThanOrEqual(emittedFrom);
      expect(Date.parse(sent.at)).toBeLessThanOrEqual(emittedTo);
    }
    expect(await metricValue(metrics, 'usage_batches_sent_total')).toBe(3);
    expect(await metricValue(metrics, 'usage_events_buffered')).toBe(0);
    expect(await metricValue(metrics, 'usage_events_dropped_total')).toBe(0);
  });

  it('sends what arrives within one flush interval as one job', async () => {
    const { sut, queue } = await build({ USAGE_BATCH_SIZE: '1000', USAGE_FLUSH_MS: '100' });
    for (let i = 0; i < 30; i += 1) sut.emit(event(i));
    await sleep(50);
    for (let i = 30; i < 45; i += 1) sut.emit(event(i));
    await waitUntil(async () => (await sentPaths(queue)).length === 45, 2_000, 'the flush');
    await sleep(300);
    const jobs = await allJobs(queue);
    expect(jobs).toHaveLength(1);
    // Later events start a new flush interval, and a new job.
    for (let i = 45; i < 50; i += 1) sut.emit(event(i));
    await waitUntil(async () => (await allJobs(queue)).length === 2, 2_000, 'the second flush');
  });

  it('flushes what it holds on a graceful stop, without waiting for the timer', async () => {
    const { sut, queue } = await build({ USAGE_BATCH_SIZE: '1000', USAGE_FLUSH_MS: '10000' });
    for (let i = 0; i < 7; i += 1) sut.emit(event(i));
    await sleep(100);
    expect(await allJobs(queue)).toHaveLength(0);
    // The flush timer is 10 s away and this test gives up after 5 s: the stop must not wait for it.
    await sut.beforeApplicationShutdown();
    const jobs = await allJobs(queue);
    expect(jobs).toHaveLength(1);
    expect(usageEventsOf(jobs[0].data)).toHaveLength(7);
    // Events from checks still finishing during the stop go in the last flush.
    sut.emit(event(7));
    await sut.onApplicationShutdown();
    expect((await sentPaths(queue)).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `/e/${i}`).sort());
    open.splice(open.indexOf(sut), 1);
  }, 5_000);

  it('emit is synchronous: 100k events are all held before the first send, then go as 20 batches', async () => {
    const { sut, queue } = await build({ USAGE_BATCH_SIZE: '5000', USAGE_FLUSH_MS: '50' });
    for (let i = 0; i < 100_000; i += 1) sut.emit(event(i));
    // No turn of the event loop has passed, so nothing can have been sent yet.
    expect(sut.size).toBe(100_000);
    await waitUntil(async () => (await queue.getJobCounts('wait')).wait === 20, 10_000, '20 batches of 5000');
  });

  describe('when Redis goes away', () => {
    let server: OwnRedisServer;

    beforeAll(async () => {
      server = await OwnRedisServer.start();
    });

    afterEach(async () => {
      // Up and answering for the next test (each test has its own key prefix on it).
      server.thaw();
      await server.restart();
    });

    afterAll(async () => {
      await server.kill();
    });

    it('holds the events while Redis is down and sends each exactly once when it is back', async () => {
      const { sut, queue, metrics } = await build({ REDIS_URL: server.url, USAGE_BATCH_SIZE: '25', USAGE_FLUSH_MS: '50' });
      for (let i = 0; i < 30; i += 1) sut.emit(event(i));
      await waitUntil(async () => (await sentPaths(queue)).length === 30, 3_000, 'the events before the outage');

      await server.kill();
      for (let i = 30; i < 160; i += 1) {
        sut.emit(event(i));
        if (i % 20 === 0) await sleep(100);
      }
      await sleep(1_000);
      expect(await metricValue(metrics, 'usage_events_buffered')).toBe(130);

      // A fresh, empty server on the same port: only what the buffer sends now is there.
      await server.restart();
      await waitUntil(async () => (await sentPaths(queue).catch(() => [])).length >= 130, 15_000, 'the held events');
      await sleep(500);
      const jobs = await allJobs(queue);
      const batchIds = jobs.map((job) => job.data.batch_id);
      expect(new Set(batchIds).size).toBe(batchIds.length);
      const paths = await sentPaths(queue);
      expect(paths).toHaveLength(130);
      expect(paths.sort()).toEqual(Array.from({ length: 130 }, (_, i) => `/e/${i + 30}`).sort());
      expect(await metricValue(metrics, 'usage_events_buffered')).toBe(0);
      expect(await metricValue(metrics, 'usage_events_dropped_total')).toBe(0);
    }, 40_000);

    it('waits out a frozen Redis without piling up adds: the batch lands once', async () => {
      const { sut, queue } = await build({ REDIS_URL: server.url, USAGE_BATCH_SIZE: '10', USAGE_FLUSH_MS: '50' });
      // Frozen: the add is sent but not answered; the buffer gives up waiting and retries.
      server.freeze();
      for (let i = 0; i < 10; i += 1) sut.emit(event(i));
      await sleep(2_500);
      server.thaw();
      await waitUntil(async () => (await sentPaths(queue)).length >= 10, 10_000, 'the batch');
      await sleep(500);
      const jobs = await allJobs(queue);
      expect(jobs).toHaveLength(1);
      expect(usageEventsOf(jobs[0].data)).toHaveLength(10);
    }, 30_000);

    it('drops the oldest waiting events when the buffer is full, with a metric', async () => {
      const { sut, queue, metrics } = await build(
        { REDIS_URL: server.url, USAGE_BATCH_SIZE: '10', USAGE_FLUSH_MS: '50' },
        { capacity: 50 },
      );
      await server.kill();
      for (let i = 0; i < 80; i += 1) sut.emit(event(i));
      expect(await metricValue(metrics, 'usage_events_dropped_total')).toBe(30);
      expect(await metricValue(metrics, 'usage_events_buffered')).toBe(50);
      await server.restart();
      await waitUntil(async () => (await sentPaths(queue).catch(() => [])).length >= 50, 15_000, 'what was kept');
      await sleep(300);
      // All 80 came in one turn, before a batch is taken (sends start after the turn): the newest 50 were kept.
      const expected = Array.from({ length: 50 }, (_, i) => `/e/${i + 30}`);
      expect((await sentPaths(queue)).sort()).toEqual(expected.sort());
    }, 30_000);

    it('gives up at the shutdown deadline when Redis stays away, without hanging', async () => {
      const { sut } = await build({ REDIS_URL: server.url, USAGE_BATCH_SIZE: '10', USAGE_FLUSH_MS: '50' }, { shutdownDeadlineMs: 1_000 });
      await server.kill();
      for (let i = 0; i < 25; i += 1) sut.emit(event(i));
      // Redis never comes back: the stop returns (within this test's 10 s, its deadlines adding
      // up to about 4 s) with the events still held, rather than waiting for it.
      await close(sut);
      open.splice(open.indexOf(sut), 1);
      expect(sut.size).toBe(25);
    }, 10_000);
  });
});
