import { setTimeout as sleep } from 'node:timers/promises';

import { Job, Queue, Worker } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { DomainEvent, EVENTS_JOB, EVENTS_QUEUE, EventType } from '@latchkey/contracts';
import { DeliveryStatus, OutboxEvent, WebhookDelivery } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { bullConnection, closeBullmq, MetricsService, queuePrefix, RedisPurpose, RedisService } from '@latchkey/platform';

import { sampleApiKeyEventData } from '../../../../test/support/event-samples';
import { seedOrg } from '../../../../test/support/org-seeds';
import { OwnRedisServer } from '../../../../test/support/own-redis-server';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { waitUntil } from '../../../../test/support/wait-until';
import { addHookEndpoint, commitOutboxEvents, HookReceiver } from '../../../../test/support/webhook-fixtures';
import { ReminderMailsProducer } from '../reminder-mail/reminder-mails.producer';
import { EndpointDisabling } from '../webhook-delivery/endpoint-disabling';
import { WebhookDeliveriesProducer } from '../webhook-delivery/webhook-deliveries.producer';
import { WebhookDeliveryMetrics } from '../webhook-delivery/webhook-delivery.metrics';
import { WebhookDeliveryProcessor } from '../webhook-delivery/webhook-delivery.processor';
import { WebhookFanoutProcessor } from '../webhook-delivery/webhook-fanout.processor';
import { EventsQueueProducer } from './events-queue.producer';
import { OutboxRelayService } from './outbox-relay.service';

const JOB_STATES = ['wait', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children', 'paused'] as const;

/** What a usage-worker copy runs of the relay; a key service (the writer) runs none of it. */
const RELAY = [EventsQueueProducer, MetricsService, OutboxRelayService];

async function allJobsOf(queue: Queue<DomainEvent>): Promise<Job<DomainEvent>[]> {
  return queue.getJobs([...JOB_STATES], 0, -1, true);
}

async function jobTotalOf(queue: Queue<DomainEvent>): Promise<number> {
  const counts = await queue.getJobCounts(...JOB_STATES);
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Commits `count` events in one transaction through `harness`, as a key change would. */
async function writeEventsThrough(harness: ServiceHarness, count: number, orgId = newId(IdPrefix.Organization)): Promise<OutboxEvent[]> {
  const em = harness.em();
  const outbox = harness.get(OutboxService);
  const rows = Array.from({ length: count }, (_, index) =>
    outbox.add(em, { orgId, environment: 'test', type: EventType.ApiKeyCreated, data: sampleApiKeyEventData(index) }),
  );
  await em.flush();
  return rows;
}

const unrelayedCountOf = (harness: ServiceHarness) => harness.em().count(OutboxEvent, { relayedAt: null });

async function metricTotal(harness: ServiceHarness, name: string): Promise<number> {
  const metric = await harness.get(MetricsService).registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, sample) => sum + sample.value, 0) ?? NaN;
}

/**
 * The outbox relay against Postgres and Redis: committed outbox rows become jobs on the
 * events queue (job id = event id, the envelope as data), each once, woken by the
 * commit's NOTIFY; and as a deployment runs it: through a Redis outage, restarted,
 * two relays on one database, a graceful stop. What an operator sees of an outage
 * (health, /metrics, the relay's log lines, webhooks arriving) is in
 * test/e2e/usage-worker/outbox-relay.e2e-spec.ts.
 */
describe(OutboxRelayService.name, () => {
  let harness: ServiceHarness;
  let queue: Queue<DomainEvent>;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [EventsQueueProducer, MetricsService, OutboxRelayService] });
    queue = harness.queue<DomainEvent>(EVENTS_QUEUE);
  });

  afterAll(async () => {
    await harness?.close();
  });

  beforeEach(async () => {
    // Each test counts jobs from zero; the rows stay (relayed) in the database.
    await waitUntil(async () => (await unrelayedCount()) === 0, 5_000, 'the outbox to drain');
    await queue.obliterate({ force: true });
  });

  async function allJobs(): Promise<Job<DomainEvent>[]> {
    return queue.getJobs([...JOB_STATES], 0, -1, true);
  }

  async function jobTotal(): Promise<number> {
    const counts = await queue.getJobCounts(...JOB_STATES);
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  /** Commits `count` events in one transaction, as a key change would. */
  async function writeEvents(count: number, orgId = newId(IdPrefix.Organization)): Promise<OutboxEvent[]> {
    const em = harness.em();
    const outbox = harness.get(OutboxService);
    const rows = Array.from({ length: count }, (_, index) =>
      outbox.add(em, { orgId, environment: 'test', type: EventType.ApiKeyCreated, data: sampleApiKeyEventData(index) }),
    );
    await em.flush();
    return rows;
  }

  /** As if the relay had died after its enqueue but before its commit: the rows are unrelayed again. */
  const unrelay = (rows: OutboxEvent[]) =>
    harness.em().nativeUpdate(OutboxEvent, { id: { $in: rows.map((row) => row.id) } }, { relayedAt: null });

  const unrelayedCount = () => harness.em().count(OutboxEvent, { relayedAt: null });

  async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await harness.get(MetricsService).registry.getSingleMetric(name)?.get();
    return (metric?.values ?? [])
      .filter((sample) => Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
      .reduce((sum, sample) => sum + sample.value, 0);
  }

  function envelopeOf(row: OutboxEvent): DomainEvent {
    return {
      id: row.id,
      type: row.type as EventType,
      created_at: row.createdAt.toISOString(),
      org_id: row.orgId,
      environment: row.environment as DomainEvent['environment'],
      data: row.data,
    };
  }

  it('relays N events as exactly N jobs, with the event id as job id and the envelope as data, within a second', async () => {
    const rows = await writeEvents(25);
    await waitUntil(async () => (await jobTotal()) >= rows.length, 1_000, '25 jobs');
    await waitUntil(async () => (await unrelayedCount()) === 0, 1_000, 'rows marked relayed');
    const jobs = await allJobs();
    expect(jobs).toHaveLength(rows.length);
    const byId = new Map(jobs.map((job) => [job.id, job]));
    for (const row of rows) {
      const job = byId.get(row.id);
      expect(job).toBeDefined();
      expect(job!.name).toBe(EVENTS_JOB);
      expect(job!.data).toEqual(envelopeOf(row));
      expect(job!.opts).toMatchObject({ attempts: 10, removeOnComplete: { age: 86_400 }, removeOnFail: false });
    }
  });

  it('relays more than a batch at once in id order, each exactly once', async () => {
    const rows = [...(await writeEvents(150)), ...(await writeEvents(120))];
    await waitUntil(async () => (await unrelayedCount()) === 0, 5_000, 'the outbox to drain');
    const jobs = await allJobs();
    expect(jobs.map((job) => job.id).sort()).toEqual(rows.map((row) => row.id).sort());
  });

  it('does not enqueue again an event re-sent after a crash between enqueue and commit', async () => {
    const rows = await writeEvents(10);
    await waitUntil(async () => (await unrelayedCount()) === 0, 2_000, 'first relay');
    const before = await allJobs();
    await unrelay(rows);
    await waitUntil(async () => (await unrelayedCount()) === 0, 2_000, 're-relay');
    const after = await allJobs();
    expect(after).toHaveLength(10);
    expect(after.map((job) => [job.id, job.timestamp]).sort()).toEqual(before.map((job) => [job.id, job.timestamp]).sort());
  });

  it('does not enqueue again an event whose job already completed (completed jobs keep their id for a day)', async () => {
    // A consumer of the events queue (the webhook fan-out, in the worker) completes the jobs.
    const config = harness.get(AppConfig);
    const consumer = new Worker(EVENTS_QUEUE, async () => undefined, {
      prefix: queuePrefix(config, EVENTS_QUEUE),
      connection: bullConnection(config, RedisPurpose.QueueWorker),
    });
    try {
      const rows = await writeEvents(5);
      const ids = new Set(rows.map((row) => row.id));
      const completedOfThese = async () => (await queue.getJobs(['completed'], 0, -1, true)).filter((job) => ids.has(job.id!));
      await waitUntil(async () => (await completedOfThese()).length === 5, 5_000, 'the 5 jobs to complete');
      const before = (await completedOfThese()).map((job) => [job.id, job.timestamp]).sort();
      await unrelay(rows);
      await waitUntil(async () => (await unrelayedCount()) === 0, 2_000, 're-relay');
      const after = (await allJobs()).filter((job) => ids.has(job.id!));
      expect(after.map((job) => [job.id, job.timestamp]).sort()).toEqual(before);
    } finally {
      await closeBullmq(consumer);
    }
  });

  it('is woken by the commit notification rather than the poll timer', async () => {
    // The relay is idle now: asleep until the backstop poll, unless a commit notifies it.
    const notifiedBefore = await metricValue('outbox_relay_wakeups_total', { reason: 'notify' });
    const rows = await writeEvents(3);
    await waitUntil(async () => (await unrelayedCount()) === 0, 5_000, 'relay');

    // Only a commit's NOTIFY counts as 'notify' (a reconnect is 'listening'): the trigger fired and the relay heard it.
    expect(await metricValue('outbox_relay_wakeups_total', { reason: 'notify' })).toBeGreaterThan(notifiedBefore);
    const jobs = (await allJobs()).filter((job) => rows.some((row) => row.id === job.id));
    expect(jobs).toHaveLength(3);
  });

  it('reports outbox_unrelayed_events and outbox_relayed_total in the metrics registry', async () => {
    const relayedBefore = await metricValue('outbox_relayed_total');
    await writeEvents(7);
    await waitUntil(async () => (await unrelayedCount()) === 0, 2_000, 'relay');
    expect((await metricValue('outbox_relayed_total')) - relayedBefore).toBe(7);
    // The text /metrics serves.
    const scrape = await harness.get(MetricsService).registry.metrics();
    expect(scrape).toMatch(/^outbox_unrelayed_events 0$/m);
    expect(scrape).toMatch(/^outbox_relayed_total \d+$/m);
  });
});

describe(`${OutboxRelayService.name} as a deployment runs it`, () => {
  describe('when Redis goes away', () => {
    let redis: OwnRedisServer;
    let harness: ServiceHarness;

    beforeAll(async () => {
      redis = await OwnRedisServer.start();
      harness = await ServiceHarness.start({ providers: RELAY, config: { REDIS_URL: redis.url } });
    });

    afterAll(async () => {
      await redis?.restart();
      await harness?.close();
      await redis?.stop();
    });

    it('keeps the rows written during the outage and relays them once Redis is back', async () => {
      const queue = harness.queue<DomainEvent>(EVENTS_QUEUE);
      const before = await writeEventsThrough(harness, 5);
      await waitUntil(async () => (await jobTotalOf(queue)) === 5, 2_000, 'relay before the outage');

      await redis.kill();
      const during = await writeEventsThrough(harness, 12);
      await waitUntil(async () => (await metricTotal(harness, 'outbox_relay_failures_total')) > 0, 10_000, 'a failed relay attempt');
      // Nothing lost, nothing marked relayed.
      expect(await unrelayedCountOf(harness)).toBe(12);
      expect(await metricTotal(harness, 'outbox_relay_failures_total')).toBeGreaterThan(0);
      await waitUntil(
        async () => /^outbox_unrelayed_events 12$/m.test(await harness.get(MetricsService).registry.metrics()),
        5_000,
        'the gauge to count the rows waiting',
      );

      // A fresh, empty redis-server on the same port: only what the relay sends now is there.
      await redis.restart();
      await waitUntil(async () => (await unrelayedCountOf(harness)) === 0, 15_000, 'relay after the outage');
      const jobs = await allJobsOf(queue);
      expect(jobs.map((job) => job.id).sort()).toEqual(during.map((row) => row.id).sort());
      expect(jobs.map((job) => job.id)).not.toEqual(expect.arrayContaining([before[0].id]));

      // And it keeps relaying as usual.
      await writeEventsThrough(harness, 3);
      await waitUntil(async () => (await unrelayedCountOf(harness)) === 0, 2_000, 'relay after recovery');
    }, 60_000);
  });

  describe('restarts and concurrent relays', () => {
    let env: TestEnvironment;
    const open: ServiceHarness[] = [];

    /** A copy of the worker (`relay`) or of a key service (`writer`) on the shared database and Redis prefix. */
    async function copy(kind: 'relay' | 'writer'): Promise<ServiceHarness> {
      const started = await ServiceHarness.start({ env, providers: kind === 'relay' ? RELAY : [] });
      open.push(started);
      return started;
    }

    async function stop(harness: ServiceHarness): Promise<void> {
      open.splice(open.indexOf(harness), 1);
      await harness.close();
    }

    beforeAll(async () => {
      env = await TestEnvironment.create();
    });

    afterEach(async () => {
      await Promise.all(open.splice(0).map((harness) => harness.close()));
    });

    afterAll(async () => {
      await env?.destroy();
    });

    it('a restarted relay never enqueues anything twice, and relays what was written while it was down', async () => {
      const first = await copy('relay');
      const queue = first.queue<DomainEvent>(EVENTS_QUEUE);
      const watcher = await copy('writer');
      const watched = watcher.queue<DomainEvent>(EVENTS_QUEUE);
      const early = await writeEventsThrough(first, 40);
      await waitUntil(async () => (await unrelayedCountOf(first)) === 0, 2_000, 'first relay');
      expect(await jobTotalOf(queue)).toBe(40);
      await stop(first);

      // Written while no relay runs (by a key service that stays up): they wait in the outbox.
      const writer = await copy('writer');
      const whileDown = await writeEventsThrough(writer, 30);
      await sleep(400);
      expect(await jobTotalOf(watched)).toBe(40);
      await stop(writer);

      const second = await copy('relay');
      const late = await writeEventsThrough(second, 20);
      await waitUntil(async () => (await unrelayedCountOf(second)) === 0, 2_000, 'second relay');
      await sleep(300);
      const jobs = await allJobsOf(watched);
      expect(jobs.map((job) => job.id).sort()).toEqual([...early, ...whileDown, ...late].map((row) => row.id).sort());
      expect(await metricTotal(second, 'outbox_relayed_total')).toBe(50);
    });

    it('two relays on one database relay each event once between them', async () => {
      const [a, b] = await Promise.all([copy('relay'), copy('relay')]);
      const queue = a.queue<DomainEvent>(EVENTS_QUEUE);
      await queue.obliterate({ force: true });
      const relayedBefore = (await metricTotal(a, 'outbox_relayed_total')) + (await metricTotal(b, 'outbox_relayed_total'));
      // Many small transactions from both sides while both relays poll.
      const batches = await Promise.all(Array.from({ length: 40 }, (_, index) => writeEventsThrough(index % 2 ? a : b, 15)));
      const rows = batches.flat();
      await waitUntil(async () => (await unrelayedCountOf(a)) === 0, 5_000, 'both relays to drain the outbox');
      await sleep(300);
      const jobs = await allJobsOf(queue);
      expect(jobs).toHaveLength(rows.length);
      expect(new Set(jobs.map((job) => job.id))).toEqual(new Set(rows.map((row) => row.id)));
      // Not just deduplicated by BullMQ: no row was sent by both relays.
      const relayed = (await metricTotal(a, 'outbox_relayed_total')) + (await metricTotal(b, 'outbox_relayed_total')) - relayedBefore;
      expect(relayed).toBe(rows.length);
    });

    it('a graceful stop finishes the batch in hand: every row marked relayed has its job and the rest wait', async () => {
      const relay = await copy('relay');
      const writer = await copy('writer');
      const queue = writer.queue<DomainEvent>(EVENTS_QUEUE);
      await queue.obliterate({ force: true });
      const rows = (await Promise.all(Array.from({ length: 10 }, () => writeEventsThrough(writer, 100)))).flat();
      await waitUntil(async () => (await jobTotalOf(queue)) > 0, 2_000, 'the first batch');
      await stop(relay);
      const relayedIds = (await writer.em().find(OutboxEvent, { id: { $in: rows.map((row) => row.id) }, relayedAt: { $ne: null } })).map(
        (row) => row.id,
      );
      const jobIds = (await allJobsOf(queue)).map((job) => job.id);
      expect(relayedIds.length).toBeGreaterThan(0);
      expect(jobIds.sort()).toEqual(relayedIds.sort());
    });
  });
});

describe(`${OutboxRelayService.name} restarted under a stream of events, through to the subscriber`, () => {
  let harness: ServiceHarness;
  let hook: HookReceiver;

  beforeAll(async () => {
    hook = await HookReceiver.start();
    harness = await ServiceHarness.start({
      providers: [
        ...RELAY,
        EndpointDisabling,
        RedisService,
        ReminderMailsProducer,
        WebhookDeliveriesProducer,
        WebhookDeliveryMetrics,
        WebhookDeliveryProcessor,
        WebhookFanoutProcessor,
      ],
      config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await harness?.close();
    await hook?.close();
  });

  /** Commits `total` events in batches of `batch`, one batch every `everyMs`: a stream the restarts land in the middle of. */
  async function commitStream(orgId: string, total: number, batch: number, everyMs: number): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < total) {
      ids.push(...(await commitOutboxEvents(harness, orgId, Math.min(batch, total - ids.length))));
      await sleep(everyMs);
    }
    return ids;
  }

  const missing = (ids: string[]) => ids.filter((id) => !hook.firstSeen.has(id));
  const succeeded = () => harness.em().count(WebhookDelivery, { status: DeliveryStatus.Succeeded });

  it('is restarted (and crashes between enqueue and commit) mid-stream: nothing lost, nothing relayed twice', async () => {
    const { orgId } = await seedOrg(harness.em());
    await addHookEndpoint(harness, harness.config.ENCRYPTION_KEY, orgId, hook.url('/c'));

    // Count fan-outs per event: an event relayed twice would be fanned out twice.
    const fanout = harness.get(WebhookFanoutProcessor);
    const fannedOut = new Map<string, number>();
    const original = fanout.fanOut.bind(fanout);
    jest.spyOn(fanout, 'fanOut').mockImplementation((event: DomainEvent) => {
      fannedOut.set(event.id, (fannedOut.get(event.id) ?? 0) + 1);
      return original(event);
    });
    // Crashes between "enqueued" and "marked relayed": the batch's transaction rolls back and it is sent again.
    const producer = harness.get(EventsQueueProducer);
    const enqueue = producer.enqueueEvents.bind(producer);
    let crashes = 0;
    let resent = 0;
    jest.spyOn(producer, 'enqueueEvents').mockImplementation(async (events) => {
      await enqueue(events);
      if (crashes < 3 && events.length > 0) {
        crashes += 1;
        resent += events.length;
        throw new Error('relay crashed after enqueue, before commit');
      }
    });

    const relay = harness.get(OutboxRelayService);
    const stream = commitStream(orgId, 300, 10, 20);
    for (let restart = 0; restart < 5; restart += 1) {
      await sleep(150);
      await relay.beforeApplicationShutdown();
      await sleep(100); // stopped: events keep being committed
      relay.onApplicationBootstrap();
    }
    const ids = await stream;

    await waitUntil(
      () => missing(ids).length === 0,
      30_000,
      () => `${missing(ids).length} events still missing`,
    );
    await waitUntil(async () => (await succeeded()) === 300, 10_000, 'every delivery to be recorded as succeeded');
    await sleep(500); // room for any duplicate to show up
    expect(crashes).toBe(3);
    expect(resent).toBeGreaterThan(0);
    // Relayed twice, yet fanned out once: the events queue's job id is the event id (and completed jobs are kept a day).
    expect([...fannedOut.values()].every((count) => count === 1)).toBe(true);
    expect(fannedOut.size).toBe(300);
    // Nothing in this test fails a send, so no retries either: each webhook-id arrives exactly once.
    expect(hook.duplicates().size).toBe(0);
    expect(hook.requests).toHaveLength(300);
    expect(await succeeded()).toBe(300);
  }, 90_000);
});
