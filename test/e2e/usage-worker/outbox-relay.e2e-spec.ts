import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { EntityManager } from '@mikro-orm/postgresql';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';

import { bullPrefix, DomainEvent, EVENTS_QUEUE, EventType } from '@latchkey/contracts';
import { OutboxEvent } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { MetricsService } from '@latchkey/platform';

import { TestApp } from '../../support/create-test-app';
import { sampleApiKeyEventData } from '../../support/event-samples';
import { freePort } from '../../support/free-port';
import { LogCapture } from '../../support/log-capture';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';

const JOB_STATES = ['wait', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children', 'paused'] as const;

/** The queue as the webhook worker will see it: same name, same prefix, same Redis. */
function inspect(app: TestApp): Queue<DomainEvent> {
  return new Queue<DomainEvent>(EVENTS_QUEUE, { prefix: bullPrefix(app.config.REDIS_PREFIX), connection: { url: app.config.REDIS_URL } });
}

async function allJobs(queue: Queue<DomainEvent>): Promise<Job<DomainEvent>[]> {
  return queue.getJobs([...JOB_STATES], 0, -1, true);
}

async function jobTotal(queue: Queue<DomainEvent>): Promise<number> {
  const counts = await queue.getJobCounts(...JOB_STATES);
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Commits `count` events in one transaction, as a key change would. */
async function writeEvents(app: TestApp, count: number, orgId = newId(IdPrefix.Organization)): Promise<OutboxEvent[]> {
  const em = app.app.get(EntityManager).fork();
  const outbox = app.app.get(OutboxService);
  const rows = Array.from({ length: count }, (_, index) =>
    outbox.add(em, { orgId, environment: 'test', type: EventType.ApiKeyCreated, data: sampleApiKeyEventData(index) }),
  );
  await em.flush();
  return rows;
}

async function unrelayedCount(app: TestApp): Promise<number> {
  return app.app.get(EntityManager).fork().count(OutboxEvent, { relayedAt: null });
}

async function metricValue(app: TestApp, name: string): Promise<number> {
  const metric = await app.app.get(MetricsService).registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, sample) => sum + sample.value, 0) ?? NaN;
}

/**
 * The outbox relay as a deployment runs it: through a Redis outage, restarts, two
 * relays on one database and a graceful stop. What a relay does with the rows (one job
 * per event, never twice, woken by NOTIFY, its metrics) is tested against the service
 * in apps/usage-worker/src/outbox-relay/outbox-relay.service.int-spec.ts.
 */
describe('usage-worker: outbox relay to the events queue', () => {
  // First in the file on purpose: nestjs-pino sends logs written outside a request
  // (the relay's) to the first app a test file starts, and this test reads them.
  describe('when Redis goes away', () => {
    let port: number;
    let redis: ChildProcess | undefined;
    let sut: TestApp;
    const logs = new LogCapture();

    beforeAll(async () => {
      port = await freePort();
      redis = await startRedis(port);
      sut = await TestApp.start({ logs, config: { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info' } });
    });

    afterAll(async () => {
      if (!redis) redis = await startRedis(port).catch(() => undefined);
      await sut.close();
      await stopRedis(redis);
    });

    it('keeps the rows written during the outage and relays them once Redis is back', async () => {
      const queue = inspect(sut);
      try {
        const before = await writeEvents(sut, 5);
        await waitUntil(async () => (await jobTotal(queue)) === 5, 2_000, 'relay before the outage');
        await queue.close();

        await stopRedis(redis);
        redis = undefined;
        const during = await writeEvents(sut, 12);
        await sleep(1_500);
        // Nothing lost, nothing marked relayed, the process still up and answering.
        expect(await unrelayedCount(sut)).toBe(12);
        expect((await sut.get('/health/live')).status).toBe(200);
        expect(await metricValue(sut, 'outbox_relay_failures_total')).toBeGreaterThan(0);
        expect((await sut.get('/metrics')).text).toMatch(/^outbox_unrelayed_events 12$/m);

        // A fresh, empty redis-server on the same port: only what the relay sends now is there.
        redis = await startRedis(port);
        const back = inspect(sut);
        try {
          await waitUntil(async () => (await unrelayedCount(sut)) === 0, 15_000, 'relay after the outage');
          const jobs = await allJobs(back);
          expect(jobs.map((job) => job.id).sort()).toEqual(during.map((row) => row.id).sort());
          expect(jobs.map((job) => job.id)).not.toEqual(expect.arrayContaining([before[0].id]));
        } finally {
          await back.close();
        }
        // It said what happened: failures with their back-off, then the recovery.
        const relayLines = logs
          .entries()
          .filter((entry) => entry.context === 'OutboxRelayService')
          .map((entry) => `${String(entry.level)} ${String(entry.msg)}`);
        expect(relayLines).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^40 outbox relay failed \(attempt 1\), retrying in \d+ ms: /),
            expect.stringMatching(/^30 outbox relay recovered after \d+ failed attempts$/),
          ]),
        );
        // And it keeps relaying as usual.
        await writeEvents(sut, 3);
        await waitUntil(async () => (await unrelayedCount(sut)) === 0, 2_000, 'relay after recovery');
      } finally {
        await queue.close().catch(() => undefined);
      }
    }, 60_000);
  });

  describe('restarts and concurrent relays', () => {
    let env: TestEnvironment;

    beforeAll(async () => {
      env = await TestEnvironment.create();
    });

    afterAll(async () => {
      await env.destroy();
    });

    it('a restarted relay never enqueues anything twice, and relays what was written while it was down', async () => {
      const first = await TestApp.start({ env });
      const queue = inspect(first);
      try {
        const early = await writeEvents(first, 40);
        await waitUntil(async () => (await unrelayedCount(first)) === 0, 2_000, 'first relay');
        await first.close();

        // Written while no relay runs (by a key service that stays up): they wait in the outbox.
        const writer = await TestApp.start({ env, config: { TARGET: 'key-issuer' } });
        const whileDown = await writeEvents(writer, 30);
        await sleep(400);
        expect(await jobTotal(queue)).toBe(40);
        await writer.close();

        const second = await TestApp.start({ env });
        try {
          const late = await writeEvents(second, 20);
          await waitUntil(async () => (await unrelayedCount(second)) === 0, 2_000, 'second relay');
          await sleep(300);
          const jobs = await allJobs(queue);
          expect(jobs.map((job) => job.id).sort()).toEqual([...early, ...whileDown, ...late].map((row) => row.id).sort());
          expect(await metricValue(second, 'outbox_relayed_total')).toBe(50);
        } finally {
          await second.close();
        }
      } finally {
        await queue.close();
      }
    });

    it('two relays on one database relay each event once between them', async () => {
      const [a, b] = await Promise.all([
        TestApp.start({ env, config: { TARGET: 'usage-worker' } }),
        TestApp.start({ env, config: { TARGET: 'usage-worker' } }),
      ]);
      const queue = inspect(a);
      await queue.obliterate({ force: true });
      try {
        const relayedBefore = (await metricValue(a, 'outbox_relayed_total')) + (await metricValue(b, 'outbox_relayed_total'));
        // Many small transactions from both sides while both relays poll.
        const batches = await Promise.all(Array.from({ length: 40 }, (_, index) => writeEvents(index % 2 ? a : b, 15)));
        const rows = batches.flat();
        await waitUntil(async () => (await unrelayedCount(a)) === 0, 5_000, 'both relays to drain the outbox');
        await sleep(300);
        const jobs = await allJobs(queue);
        expect(jobs).toHaveLength(rows.length);
        expect(new Set(jobs.map((job) => job.id))).toEqual(new Set(rows.map((row) => row.id)));
        // Not just deduplicated by BullMQ: no row was sent by both relays.
        const relayed = (await metricValue(a, 'outbox_relayed_total')) + (await metricValue(b, 'outbox_relayed_total')) - relayedBefore;
        expect(relayed).toBe(rows.length);
      } finally {
        await queue.close();
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a graceful stop finishes the batch in hand: every row marked relayed has its job and the rest wait', async () => {
      const app = await TestApp.start({ env, config: { TARGET: 'usage-worker' } });
      const queue = inspect(app);
      await queue.obliterate({ force: true });
      const writer = await TestApp.start({ env, config: { TARGET: 'key-issuer' } });
      try {
        const rows = (await Promise.all(Array.from({ length: 10 }, () => writeEvents(writer, 100)))).flat();
        await waitUntil(async () => (await jobTotal(queue)) > 0, 2_000, 'the first batch');
        await app.close();
        const em = writer.app.get(EntityManager).fork();
        const relayedIds = (await em.find(OutboxEvent, { id: { $in: rows.map((row) => row.id) }, relayedAt: { $ne: null } })).map(
          (row) => row.id,
        );
        const jobIds = (await allJobs(queue)).map((job) => job.id);
        expect(relayedIds.length).toBeGreaterThan(0);
        expect(jobIds.sort()).toEqual(relayedIds.sort());
      } finally {
        await queue.close();
        await writer.close();
      }
    });
  });
});

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return child;
    } catch {
      // not up yet
    } finally {
      probe.disconnect();
    }
    await sleep(50);
  }
  await stopRedis(child);
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
