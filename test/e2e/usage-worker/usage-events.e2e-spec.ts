import { randomUUID } from 'node:crypto';

import { EntityManager } from '@mikro-orm/postgresql';
import { Job, Queue } from 'bullmq';

import {
  bullPrefix,
  USAGE_BATCH_JOB,
  USAGE_JOB_OPTIONS,
  USAGE_QUEUE,
  UsageBatchJobData,
  usageBatchOf,
  UsageEvent,
  VerifyCode,
} from '@latchkey/contracts';
import { MetricsService } from '@latchkey/platform';

import { RequestLogPartitionsService } from '../../../apps/usage-worker/src/usage-events/request-log-partitions.service';
import { USAGE_MAINTENANCE_JOB, USAGE_MAINTENANCE_QUEUE } from '../../../apps/usage-worker/src/usage-events/usage-maintenance.processor';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { UsageMaintenanceRunner } from './usage-maintenance-runner';

const DAY_MS = 86_400_000;

describe('usage-worker: usage batches → exact counters, request logs, last_used_at', () => {
  let sut: TestApp;
  let queue: Queue<UsageBatchJobData>;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start();
    queue = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await queue.close();
    await sut.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    sut.app.get(EntityManager).fork().execute<T[]>(query, params);

  async function createKey(body: Record<string, unknown> = {}): Promise<{ id: string }> {
    const response = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'metered', environment: 'test', ...body } });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
    return response.body.data as { id: string };
  }

  function event(keyId: string, code: VerifyCode, at = new Date(), extra: Partial<UsageEvent> = {}): UsageEvent {
    return {
      key_id: keyId,
      org_id: owner.orgId,
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

  async function enqueue(events: UsageEvent[], batchId = `bat_${randomUUID()}`, jobId = batchId): Promise<Job<UsageBatchJobData>> {
    return queue.add(USAGE_BATCH_JOB, usageBatchOf(batchId, events), { ...USAGE_JOB_OPTIONS, jobId });
  }

  const stateOf = async (job: Job) => queue.getJobState(job.id!);
  const waitCompleted = (job: Job, timeoutMs = 10_000) =>
    waitUntil(async () => (await stateOf(job)) === 'completed', timeoutMs, `job ${job.id}`);

  async function dayUsage(keyId: string): Promise<{ total: number; codes: Record<string, number> }> {
    const response = await sut.get(`/v1/api-keys/${keyId}/usage`, {
      token: owner.token,
      query: { granularity: 'day', from: new Date(Date.now() - DAY_MS).toISOString() },
    });
    expect(response.status).toBe(200);
    const buckets = response.body.data.buckets as { total: number; codes: Record<string, number> }[];
    const codes: Record<string, number> = {};
    for (const bucket of buckets) for (const [code, n] of Object.entries(bucket.codes)) codes[code] = (codes[code] ?? 0) + n;
    return { total: buckets.reduce((sum, bucket) => sum + bucket.total, 0), codes };
  }

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const values = (await sut.app.get(MetricsService).registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
      .reduce((sum, sample) => sum + sample.value, 0);
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
    const metrics = (await sut.get('/metrics')).text;
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

  it('keeps last_used_at current within seconds, never moving it back', async () => {
    const key = await createKey();
    const at = new Date(Date.now() - 1_000);
    const started = Date.now();
    await enqueue([event(key.id, 'VALID', new Date(at.getTime() - 60_000)), event(key.id, 'VALID', at)]);
    await waitUntil(
      async () => (await sut.get(`/v1/api-keys/${key.id}`, { token: owner.token })).body.data.last_used_at === at.toISOString(),
      5_000,
      'last_used_at',
    );
    expect(Date.now() - started).toBeLessThan(5_000);

    // An older batch arriving late leaves it alone.
    await waitCompleted(await enqueue([event(key.id, 'VALID', new Date(at.getTime() - 3_600_000))]));
    expect((await sut.get(`/v1/api-keys/${key.id}`, { token: owner.token })).body.data.last_used_at).toBe(at.toISOString());
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
    const partitions = async (environment: string) =>
      (
        await sql<{ name: string }>(
          `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
            where p.relname = ? order by 1`,
          [`request_logs_${environment}`],
        )
      ).map((row) => row.name);
    const dayName = (environment: string, at: Date) => `request_logs_${environment}_${at.toISOString().slice(0, 10).replaceAll('-', '')}`;

    it('is scheduled as a BullMQ job scheduler and keeps the next days ready', async () => {
      const maintenance = new Queue(USAGE_MAINTENANCE_QUEUE, {
        prefix: bullPrefix(sut.config.REDIS_PREFIX),
        connection: { url: sut.config.REDIS_URL },
      });
      try {
        await waitUntil(async () => (await maintenance.getJobScheduler(USAGE_MAINTENANCE_JOB)) !== undefined, 5_000, 'the scheduler');
      } finally {
        await maintenance.close();
      }
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
      await sut.app
        .get(RequestLogPartitionsService)
        .ensure(ages.flatMap((days) => (['test', 'live'] as const).map((environment) => ({ environment, at: ago(days) }))));
      const orgId = 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I';
      for (const environment of ['test', 'live']) {
        for (const days of ages) {
          await sql(
            `insert into request_logs (id, key_id, org_id, environment, code, ip, method, path, latency_us, at)
             values (?, null, ?, ?, 'VALID', null, null, null, 1, ?)`,
            [`req_${randomUUID()}`, orgId, environment, ago(days)],
          );
        }
      }

      // After the scheduler's own first run, so the days dropped are this run's.
      const maintenance = await UsageMaintenanceRunner.start(sut);
      const result = await maintenance.run(now).finally(() => maintenance.close());
      expect(result.dropped.sort()).toEqual(
        [dayName('live', ago(92)), dayName('test', ago(89)), dayName('test', ago(9)), dayName('test', ago(92))].sort(),
      );

      const kept = async (environment: string) =>
        (
          await sql<{ at: Date }>('select at from request_logs where org_id = ? and environment = ? order by at desc', [orgId, environment])
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
