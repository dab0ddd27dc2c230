import { randomUUID } from 'node:crypto';

import { Job, Queue } from 'bullmq';

import {
  USAGE_BATCH_JOB,
  USAGE_JOB_OPTIONS,
  USAGE_QUEUE,
  UsageBatchJobData,
  usageBatchOf,
  UsageEvent,
  VerifyCode,
} from '@latchkey/contracts';
import { ApiKey } from '@latchkey/db';
import { MetricsService } from '@latchkey/platform';

import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { seedApiKey, USAGE_CONSUMER_PROVIDERS } from '../../../../test/support/usage-consumer';
import { waitUntil } from '../../../../test/support/wait-until';
import { SentRemindersPruner } from '../reminders/sent-reminders-pruner.service';
import { EndedCredentialsPruner } from '../retention/ended-credentials-pruner.service';
import { OutboxPruner } from '../retention/outbox-pruner.service';
import { WebhookDeliveriesPruner } from '../retention/webhook-deliveries-pruner.service';
import { RecordUsageProcessor } from './record-usage.processor';
import { RequestLogPartitionsService } from './request-log-partitions.service';
import { UsageHistoryPruner } from './usage-history-pruner.service';
import { MaintenanceRun, USAGE_MAINTENANCE_JOB, USAGE_MAINTENANCE_QUEUE, UsageMaintenanceProcessor } from './usage-maintenance.processor';

const DAY_MS = 86_400_000;

/**
 * The usage consumer against Postgres and Redis: batches added to the usage queue by
 * hand (as auth-check's buffer adds them, and in forms it never would) are counted by
 * RecordUsageProcessor into the counters, request logs and last_used_at, read back with
 * SQL; and the maintenance job's request-log partitions. The same counting through
 * POST /v1/verify and the read endpoints is test/e2e/usage-worker/usage-events.e2e-spec.ts.
 */
describe(RecordUsageProcessor.name, () => {
  let harness: ServiceHarness;
  let queue: Queue<UsageBatchJobData>;
  let orgId: string;

  beforeAll(async () => {
    harness = await ServiceHarness.start({
      providers: [
        ...USAGE_CONSUMER_PROVIDERS,
        EndedCredentialsPruner,
        OutboxPruner,
        RequestLogPartitionsService,
        SentRemindersPruner,
        UsageHistoryPruner,
        UsageMaintenanceProcessor,
        WebhookDeliveriesPruner,
      ],
    });
    queue = harness.queue<UsageBatchJobData>(USAGE_QUEUE);
    orgId = (await seedOrg(harness.em())).orgId;
  });

  afterAll(async () => {
    await harness?.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => harness.sql<T>(query, params);

  const createKey = async (): Promise<{ id: string }> => ({ id: (await seedApiKey(harness.em(), orgId)).id });

  function event(keyId: string, code: VerifyCode, at = new Date(), extra: Partial<UsageEvent> = {}): UsageEvent {
    return {
      key_id: keyId,
      org_id: orgId,
      environment: 'test',
      code,
      ip: '203.0.113.7',
      method: 'GET',
      path: '/v1/things',
      at: at.toISOString(),
      latency_us: 420,
      ...extra,
    };
  }

  function enqueue(events: UsageEvent[], batchId = `bat_${randomUUID()}`, jobId = batchId): Promise<Job<UsageBatchJobData>> {
    return queue.add(USAGE_BATCH_JOB, usageBatchOf(batchId, events), { ...USAGE_JOB_OPTIONS, jobId });
  }

  const stateOf = async (job: Job) => queue.getJobState(job.id!);
  const waitCompleted = (job: Job, timeoutMs = 10_000) =>
    waitUntil(async () => (await stateOf(job)) === 'completed', timeoutMs, `job ${job.id}`);

  /** The key's day counters since yesterday, as GET /v1/api-keys/:id/usage?granularity=day sums them. */
  async function dayUsage(keyId: string): Promise<{ total: number; codes: Record<string, number> }> {
    const rows = await sql<{ code: string; n: string }>(
      `select code, sum(count) as n from usage_counters
        where key_id = ? and granularity = 'day' and bucket_start >= date_trunc('day', ?::timestamptz) group by code`,
      [keyId, new Date(Date.now() - DAY_MS)],
    );
    const codes: Record<string, number> = {};
    for (const row of rows) codes[row.code] = Number(row.n);
    return { total: Object.values(codes).reduce((sum, n) => sum + n, 0), codes };
  }

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const values = (await harness.get(MetricsService).registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
      .reduce((sum, sample) => sum + sample.value, 0);
  }

  async function metricsText(): Promise<string> {
    return harness.get(MetricsService).registry.metrics();
  }

  it('counts N checks exactly once per code, by minute, hour and day, in one batch', async () => {
    const key = await createKey();
    const events = [
      ...Array.from({ length: 37 }, () => event(key.id, 'VALID')),
      ...Array.from({ length: 5 }, () => event(key.id, 'RATE_LIMITED')),
      ...Array.from({ length: 2 }, () => event(key.id, 'IP_NOT_ALLOWED')),
    ];
    const countedBefore = await metric('usage_events_counted_total');
    await waitCompleted(await enqueue(events));

    expect(await dayUsage(key.id)).toEqual({ total: 44, codes: { VALID: 37, RATE_LIMITED: 5, IP_NOT_ALLOWED: 2 } });
    const perGranularity = await sql<{ granularity: string; n: string }>(
      'select granularity, sum(count) as n from usage_counters where key_id = ? group by granularity order by granularity',
      [key.id],
    );
    expect(perGranularity.map((row) => [row.granularity, Number(row.n)])).toEqual([
      ['day', 44],
      ['hour', 44],
      ['minute', 44],
    ]);
    const [logs] = await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [key.id]);
    expect(Number(logs.n)).toBe(44);
    expect((await metric('usage_events_counted_total')) - countedBefore).toBe(44);
    const metrics = await metricsText();
    expect(metrics).toMatch(/^usage_batches_processed_total\{outcome="counted"\} \d+$/m);
    expect(metrics).toMatch(/^usage_processing_lag_seconds_count \d+$/m);
  });

  it('counts a batch delivered twice (same batch_id, two jobs) once', async () => {
    const key = await createKey();
    const batchId = `bat_${randomUUID()}`;
    const events = Array.from({ length: 10 }, () => event(key.id, 'VALID'));
    const duplicatesBefore = await metric('usage_batches_processed_total', { outcome: 'duplicate' });
    const first = await enqueue(events, batchId, `${batchId}-a`);
    const second = await enqueue(events, batchId, `${batchId}-b`);
    await waitCompleted(first);
    await waitCompleted(second);
    // And once more after both are done, as a redelivery a day later would be.
    await waitCompleted(await enqueue(events, batchId, `${batchId}-c`));

    expect(await dayUsage(key.id)).toEqual({ total: 10, codes: { VALID: 10 } });
    const [logs] = await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [key.id]);
    expect(Number(logs.n)).toBe(10);
    expect((await metric('usage_batches_processed_total', { outcome: 'duplicate' })) - duplicatesBefore).toBe(2);
  });

  it('retries a batch whose transaction failed at its last statement, and counts it once', async () => {
    const key = await createKey();
    // The last statement of the batch (last_used_at) fails once: everything before it must roll back.
    await sql('create sequence usage_fail_once');
    await sql(`
      create function usage_fail_once() returns trigger language plpgsql as $$
      begin
        if new.id = '${key.id}' and nextval('usage_fail_once') = 1 then raise exception 'injected failure'; end if;
        return new;
      end $$`);
    await sql('create trigger usage_fail_once before update on api_keys for each row execute function usage_fail_once()');
    try {
      const job = await enqueue(Array.from({ length: 7 }, () => event(key.id, 'VALID')));
      await waitCompleted(job, 15_000);
      expect((await queue.getJob(job.id!))?.attemptsMade).toBe(2);
      expect(await dayUsage(key.id)).toEqual({ total: 7, codes: { VALID: 7 } });
      const [logs] = await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [key.id]);
      expect(Number(logs.n)).toBe(7);
    } finally {
      await sql('drop trigger if exists usage_fail_once on api_keys');
      await sql('drop function if exists usage_fail_once()');
      await sql('drop sequence if exists usage_fail_once');
    }
  });

  it('keeps last_used_at current, never moving it back', async () => {
    const key = await createKey();
    const at = new Date(Date.now() - 1_000);
    const lastUsedAt = async () => (await harness.em().findOneOrFail(ApiKey, key.id)).lastUsedAt?.toISOString();
    await waitCompleted(await enqueue([event(key.id, 'VALID', new Date(at.getTime() - 60_000)), event(key.id, 'VALID', at)]));
    expect(await lastUsedAt()).toBe(at.toISOString());

    // An older batch arriving late leaves it alone.
    await waitCompleted(await enqueue([event(key.id, 'VALID', new Date(at.getTime() - 3_600_000))]));
    expect(await lastUsedAt()).toBe(at.toISOString());
  });

  it('logs checks without a known key under their organisation, and counts no key for them', async () => {
    const before = await sql<{ n: string }>('select count(*) as n from usage_counters');
    await waitCompleted(
      await enqueue([
        event('', 'NOT_FOUND', new Date(), { key_id: null }),
        event('', 'MALFORMED', new Date(), { key_id: null, org_id: null, environment: null }),
      ]),
    );
    const logs = await sql<{ code: string }>('select code from request_logs where key_id is null');
    expect(logs.map((row) => row.code)).toEqual(['NOT_FOUND']);
    expect(await sql<{ n: string }>('select count(*) as n from usage_counters')).toEqual(before);
  });

  it('parks a malformed batch as failed without retrying it, and drops malformed events from a good one', async () => {
    const bad = await queue.add(USAGE_BATCH_JOB, { events: [] } as unknown as UsageBatchJobData, {
      ...USAGE_JOB_OPTIONS,
      jobId: `bad-${randomUUID()}`,
    });
    await waitUntil(async () => (await stateOf(bad)) === 'failed', 5_000, 'the malformed batch to fail');
    expect((await queue.getJob(bad.id!))?.attemptsMade).toBe(1);

    const key = await createKey();
    await waitCompleted(
      await enqueue([
        event(key.id, 'VALID'),
        { ...event(key.id, 'VALID'), code: 'NOPE' as VerifyCode },
        { ...event(key.id, 'VALID'), at: 'yesterday' },
      ]),
    );
    expect(await dayUsage(key.id)).toEqual({ total: 1, codes: { VALID: 1 } });
  });

  it('counts checks older than log retention but logs none of them', async () => {
    const key = await createKey();
    const old = new Date(Date.now() - 30 * DAY_MS);
    await waitCompleted(await enqueue([event(key.id, 'VALID', old), event(key.id, 'VALID', old)]));
    const [counted] = await sql<{ n: string }>("select sum(count) as n from usage_counters where key_id = ? and granularity = 'day'", [
      key.id,
    ]);
    expect(Number(counted.n)).toBe(2);
    const [logs] = await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [key.id]);
    expect(Number(logs.n)).toBe(0);
  });

  describe('request-log partitions and retention', () => {
    let maintenance: Queue;

    beforeAll(() => {
      maintenance = harness.queue(USAGE_MAINTENANCE_QUEUE);
    });

    const partitions = async (environment: string) =>
      (
        await sql<{ name: string }>(
          `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
            where p.relname = ? order by 1`,
          [`request_logs_${environment}`],
        )
      ).map((row) => row.name);
    const dayName = (environment: string, at: Date) => `request_logs_${environment}_${at.toISOString().slice(0, 10).replaceAll('-', '')}`;

    /** The scheduler's own first run starts with the worker; waits for it, so a test's counts are its own run's. */
    async function scheduledRunFinished(): Promise<void> {
      let counts: Record<string, number> = {};
      await waitUntil(
        async () => {
          counts = await maintenance.getJobCounts('completed', 'failed', 'active', 'waiting', 'prioritized');
          return counts.completed + counts.failed > 0 && counts.active + counts.waiting + counts.prioritized === 0;
        },
        15_000,
        () => `the scheduled maintenance run to finish: ${JSON.stringify(counts)}`,
      );
    }

    async function runMaintenance(now: Date): Promise<MaintenanceRun> {
      const job = await harness.get(UsageMaintenanceProcessor).runNow(now);
      let state = '';
      await waitUntil(
        async () => ['completed', 'failed'].includes((state = await maintenance.getJobState(job.id!))),
        30_000,
        () => `maintenance run ${job.id}: ${state}`,
      );
      const finished = await maintenance.getJob(job.id!);
      if (state !== 'completed') throw new Error(`maintenance run failed: ${finished?.failedReason}`);
      return finished!.returnvalue as MaintenanceRun;
    }

    it('is scheduled as a BullMQ job scheduler and keeps the next days ready', async () => {
      await waitUntil(async () => (await maintenance.getJobScheduler(USAGE_MAINTENANCE_JOB)) !== undefined, 5_000, 'the scheduler');
      const now = Date.now();
      await waitUntil(
        async () => (await partitions('live')).includes(dayName('live', new Date(now + 3 * DAY_MS))),
        5_000,
        'partitions ahead',
      );
      for (const environment of ['test', 'live']) {
        for (let ahead = 0; ahead <= 3; ahead += 1) {
          expect(await partitions(environment)).toContain(dayName(environment, new Date(now + ahead * DAY_MS)));
        }
      }
    });

    it('drops whole days past each environment’s retention (test 7 d, live 90 d) and keeps newer ones', async () => {
      const now = new Date();
      const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
      const ages = [3, 6, 9, 89, 92];
      await harness
        .get(RequestLogPartitionsService)
        .ensure(ages.flatMap((days) => (['test', 'live'] as const).map((environment) => ({ environment, at: ago(days) }))));
      const logOrgId = 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I';
      for (const environment of ['test', 'live']) {
        for (const days of ages) {
          await sql(
            `insert into request_logs (id, key_id, org_id, environment, code, ip, method, path, latency_us, at)
             values (?, null, ?, ?, 'VALID', null, null, null, 1, ?)`,
            [`req_${randomUUID()}`, logOrgId, environment, ago(days)],
          );
        }
      }

      // After the scheduler's own first run, so the days dropped are this run's.
      await scheduledRunFinished();
      const result = await runMaintenance(now);
      expect(result.dropped.sort()).toEqual(
        [dayName('live', ago(92)), dayName('test', ago(89)), dayName('test', ago(9)), dayName('test', ago(92))].sort(),
      );

      const kept = async (environment: string) =>
        (
          await sql<{ at: Date }>('select at from request_logs where org_id = ? and environment = ? order by at desc', [
            logOrgId,
            environment,
          ])
        ).map((row) => Math.round((now.getTime() - new Date(row.at).getTime()) / DAY_MS));
      expect(await kept('test')).toEqual([3, 6]);
      expect(await kept('live')).toEqual([3, 6, 9, 89]);
      expect(await partitions('test')).not.toContain(dayName('test', ago(9)));
      expect(await partitions('live')).toContain(dayName('live', ago(89)));

      // The next checks of today still land (today's partition was not touched).
      const key = await createKey();
      await waitCompleted(await enqueue([event(key.id, 'VALID')]));
      const [logs] = await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [key.id]);
      expect(Number(logs.n)).toBe(1);
    });
  });
});
