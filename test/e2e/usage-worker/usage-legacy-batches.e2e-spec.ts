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

import { TestApp } from '../../support/create-test-app';
import { insertApiKey, signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';

/**
 * The worker reads usage batches as columns only. A batch of the first form (a list of
 * event objects) still queued when the worker was upgraded is parked for the operator
 * in the usage quarantine: never failed or dropped, never counted.
 */
describe('usage-worker: a usage batch of the pre-columns form is parked, not counted', () => {
  let sut: TestApp;
  let queue: Queue;
  let tenant: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start();
    queue = new Queue(USAGE_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
    tenant = await signUp(sut);
  });

  afterAll(async () => {
    await queue.close();
    await sut.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    sut.app.get(EntityManager).fork().execute<T[]>(query, params);

  function check(keyId: string, orgId: string, path: string): UsageEvent {
    return {
      key_id: keyId,
      org_id: orgId,
      environment: 'test',
      code: VerifyCode.Valid,
      ip: '203.0.113.9',
      method: 'GET',
      path,
      at: new Date().toISOString(),
      latency_us: 250,
    };
  }

  /** As an auth-check of the release before columns queued it. */
  const enqueueLegacy = (batchId: string, events: UsageEvent[], jobId = batchId): Promise<Job> =>
    queue.add(USAGE_BATCH_JOB, { batch_id: batchId, events }, { ...USAGE_JOB_OPTIONS, jobId });
  const enqueue = (batch: UsageBatchJobData, jobId: string): Promise<Job> =>
    queue.add(USAGE_BATCH_JOB, batch, { ...USAGE_JOB_OPTIONS, jobId });
  const completed = (job: Job) => waitUntil(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, `job ${job.id}`);

  const countedFor = async (keyId: string) =>
    Number(
      (
        await sql<{ n: string }>(`select coalesce(sum(count), 0) as n from usage_counters where key_id = ? and granularity = 'day'`, [
          keyId,
        ])
      )[0].n,
    );
  const metric = async (name: string) =>
    (await sut.app.get(MetricsService).registry.getSingleMetric(name)?.get())?.values.reduce((sum, value) => sum + value.value, 0) ?? 0;

  it('completes the job without counting anything, moves the metric, and shows the events to the operator', async () => {
    const { key } = await insertApiKey(sut, tenant.orgId);
    const events = [
      check(key.id, tenant.orgId, '/v1/one'),
      check(key.id, tenant.orgId, '/v1/two'),
      check(key.id, tenant.orgId, '/v1/three'),
    ];
    const batchId = `bat_${randomUUID()}`;
    const parkedBefore = await metric('usage_batches_parked_total');
    const processedBefore = await metric('usage_batches_processed_total');

    const job = await enqueueLegacy(batchId, events);
    await completed(job);
    // Parked, not failed: the job finished on its first attempt and is not in the failed set.
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
    expect(await queue.getFailedCount()).toBe(0);

    expect(await countedFor(key.id)).toBe(0);
    expect(await sql('select 1 from request_logs where key_id = ?', [key.id])).toHaveLength(0);
    expect(await sql('select 1 from usage_processed_batches where batch_id = ?', [batchId])).toHaveLength(0);
    const [row] = await sql<{ last_used_at: Date | null }>('select last_used_at from api_keys where id = ?', [key.id]);
    expect(row.last_used_at).toBeNull();
    expect((await metric('usage_batches_parked_total')) - parkedBefore).toBe(1);
    expect(await metric('usage_batches_processed_total')).toBe(processedBefore);

    const listed = await sut.get('/v1/platform/usage-quarantine', { token: sut.config.PLATFORM_ADMIN_TOKEN, query: { limit: '100' } });
    expect(listed.status).toBe(200);
    const kept = (listed.body.data as { batch_id: string; reason: string; event: string }[]).filter((entry) => entry.batch_id === batchId);
    expect(kept.map((entry) => JSON.parse(entry.event) as UsageEvent)).toEqual(expect.arrayContaining(events));
    expect(kept).toHaveLength(events.length);
    for (const entry of kept) expect(entry.reason).toMatch(/event list.*not counted.*drain the queue/);
  });

  it('keeps a redelivered batch once, and still counts the same checks re-sent as columns, once', async () => {
    const { key } = await insertApiKey(sut, tenant.orgId);
    const events = [check(key.id, tenant.orgId, '/v1/a'), check(key.id, tenant.orgId, '/v1/b')];
    const batchId = `bat_${randomUUID()}`;
    const parkedBefore = await metric('usage_batches_parked_total');

    // Two deliveries of one batch at once (a duplicate send): the second adds nothing to the quarantine.
    const [first, second] = await Promise.all([enqueueLegacy(batchId, events), enqueueLegacy(batchId, events, `${batchId}-again`)]);
    await Promise.all([completed(first), completed(second)]);
    const kept = await sql('select 1 from usage_quarantined_events where batch_id = ?', [batchId]);
    expect(kept).toHaveLength(events.length);
    expect((await metric('usage_batches_parked_total')) - parkedBefore).toBe(2);
    expect(await countedFor(key.id)).toBe(0);

    // The batch id was not recorded as counted: an operator who re-sends the checks as columns gets them counted.
    await completed(await enqueue(usageBatchOf(batchId, events), `${batchId}-columns`));
    await completed(await enqueue(usageBatchOf(batchId, events), `${batchId}-columns-again`));
    expect(await countedFor(key.id)).toBe(events.length);
  });
});
