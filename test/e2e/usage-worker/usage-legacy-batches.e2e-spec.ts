import { randomUUID } from 'node:crypto';

import { Job } from 'bullmq';

import { usageBatchOf, UsageEvent } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { insertApiKey, signUp, UserSession } from '../../support/factories';
import { checkEvent, UsageLedgerProbe } from './usage-ledger-probe';

/**
 * The worker reads usage batches as columns only. A batch of the first form (a list of
 * event objects) still queued when the worker was upgraded is parked for the operator
 * in the usage quarantine: never failed or dropped, never counted.
 */
describe('usage-worker: a usage batch of the pre-columns form is parked, not counted', () => {
  let sut: TestApp;
  let tenant: UserSession;

  let probe: UsageLedgerProbe;

  beforeAll(async () => {
    sut = await TestApp.start();
    probe = new UsageLedgerProbe(sut);
    tenant = await signUp(sut);
  });

  afterAll(async () => {
    await probe.close();
    await sut.close();
  });

  const check = (keyId: string, orgId: string, path: string): UsageEvent =>
    checkEvent(keyId, orgId, { path, ip: '203.0.113.9', latency_us: 250 });
  /** As an auth-check of the release before columns queued it. */
  const enqueueLegacy = (batchId: string, events: UsageEvent[], jobId = batchId): Promise<Job> =>
    probe.enqueue({ batch_id: batchId, events }, jobId);
  const enqueue = (batch: unknown, jobId: string) => probe.enqueue(batch, jobId);
  const completed = (job: Job) => probe.completed(job);
  const countedFor = (keyId: string) => probe.countedFor(keyId);
  const metric = (name: string) => probe.metric(name);
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => probe.sql<T>(query, params);

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
    expect((await probe.queue.getJob(job.id!))?.attemptsMade).toBe(1);
    expect(await probe.queue.getFailedCount()).toBe(0);

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
