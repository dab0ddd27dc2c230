import { randomUUID } from 'node:crypto';

import { Job, Queue } from 'bullmq';

import { USAGE_BATCH_JOB, USAGE_JOB_OPTIONS, USAGE_QUEUE, usageBatchOf, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { MetricsService } from '@latchkey/platform';

import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { seedApiKey, USAGE_CONSUMER_PROVIDERS } from '../../../../test/support/usage-consumer';
import { waitUntil } from '../../../../test/support/wait-until';
import { parseUsageBatch } from './usage-batch';
import { UsageLedgerService } from './usage-ledger.service';

/**
 * One check that Postgres refuses (a NUL byte, a lone surrogate, a number past bigint)
 * used to fail the whole usage batch, which holds every tenant's checks of that flush,
 * until it was dropped. It is now set aside and the rest is counted, exactly once.
 * Batches are added to the usage queue by hand (and one handed to the ledger past the
 * parser) and read back with SQL; poisoned checks through POST /v1/verify and the
 * operator's listing are test/e2e/usage-worker/usage-quarantine.e2e-spec.ts.
 */
describe('usage quarantine: events Postgres refuses are set aside, the rest of their batch is counted', () => {
  let harness: ServiceHarness;
  let queue: Queue;
  let orgIds: string[];

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: USAGE_CONSUMER_PROVIDERS });
    queue = harness.queue(USAGE_QUEUE);
    orgIds = [(await seedOrg(harness.em())).orgId, (await seedOrg(harness.em())).orgId, (await seedOrg(harness.em())).orgId];
  });

  afterAll(async () => {
    await harness?.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => harness.sql<T>(query, params);

  function check(keyId: string, orgId: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
    return {
      key_id: keyId,
      org_id: orgId,
      environment: 'test',
      code: VerifyCode.Valid,
      ip: '203.0.113.7',
      method: 'GET',
      path: '/v1/things',
      at: new Date().toISOString(),
      latency_us: 300,
      ...overrides,
    };
  }

  const enqueue = (batchId: string, events: UsageEvent[], jobId = batchId): Promise<Job> =>
    queue.add(USAGE_BATCH_JOB, usageBatchOf(batchId, events), { ...USAGE_JOB_OPTIONS, jobId });
  const completed = (job: Job) => waitUntil(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, `job ${job.id}`);
  const countedFor = async (keyId: string) =>
    Number(
      (
        await sql<{ n: string }>(`select coalesce(sum(count), 0) as n from usage_counters where key_id = ? and granularity = 'day'`, [
          keyId,
        ])
      )[0].n,
    );
  const loggedFor = async (keyId: string) =>
    Number((await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [keyId]))[0].n);
  const quarantinedMetric = async () => {
    const metric = await harness.get(MetricsService).registry.getSingleMetric('usage_events_quarantined_total')?.get();
    return metric?.values.reduce((sum, value) => sum + value.value, 0) ?? 0;
  };

  it("counts every tenant's checks exactly once around poisoned ones, keeps the poisoned ones for the operator", async () => {
    const keys: { id: string; orgId: string }[] = [];
    for (const orgId of orgIds) {
      for (let i = 0; i < 2; i += 1) keys.push({ id: (await seedApiKey(harness.em(), orgId)).id, orgId });
    }
    const poisoned = [
      check(keys[0].id, keys[0].orgId, { path: '/v1/a\u0000b' }),
      check(keys[1].id, keys[1].orgId, { method: 'GET\ud800' }),
      check(keys[2].id, keys[2].orgId, { ip: '\udc00' }),
      check(keys[3].id, keys[3].orgId, { path: '\ud83d' }),
      check(keys[4].id, keys[4].orgId, { latency_us: 1e30 }),
    ];
    const good: UsageEvent[] = [];
    for (let i = 0; i < 120; i += 1) {
      const key = keys[i % keys.length];
      good.push(check(key.id, key.orgId, { code: i % 10 === 0 ? VerifyCode.RateLimited : VerifyCode.Valid, path: `/v1/items/${i}` }));
    }
    // The poisoned checks sit among the good ones, as one flush of the auth-check would send them.
    const events = [...good.slice(0, 40), ...poisoned.slice(0, 3), ...good.slice(40, 90), ...poisoned.slice(3), ...good.slice(90)];
    const metricBefore = await quarantinedMetric();
    const batchId = `bat_${randomUUID()}`;

    await completed(await enqueue(batchId, events));
    // Redelivered (a retry after a crash past commit, or a duplicate send): nothing is counted or kept twice.
    await completed(await enqueue(batchId, events, `${batchId}-again`));

    for (const key of keys) {
      expect(await countedFor(key.id)).toBe(120 / keys.length);
      expect(await loggedFor(key.id)).toBe(120 / keys.length);
      const [row] = await sql<{ last_used_at: Date | null }>('select last_used_at from api_keys where id = ?', [key.id]);
      expect(row.last_used_at).not.toBeNull();
    }

    const kept = await sql<{ batch_id: string; reason: string; event: string }>(
      'select batch_id, reason, event from usage_quarantined_events where batch_id = ? order by id',
      [batchId],
    );
    expect(kept).toHaveLength(poisoned.length);
    // Kept as it arrived: the escapes parse back to the very same event.
    expect(kept.map((row) => JSON.parse(row.event) as UsageEvent)).toEqual(expect.arrayContaining(poisoned));
    expect(kept.map((row) => row.reason).sort()).toEqual(
      [
        'ip holds a NUL byte or an unpaired surrogate',
        'latency_us is out of range',
        'method holds a NUL byte or an unpaired surrogate',
        'path holds a NUL byte or an unpaired surrogate',
        'path holds a NUL byte or an unpaired surrogate',
      ].sort(),
    );
    expect((await quarantinedMetric()) - metricBefore).toBe(poisoned.length);
  });

  it('quarantines what Postgres itself refuses when no check caught it before the write', async () => {
    const orgId = orgIds[0];
    const key = await seedApiKey(harness.em(), orgId);
    const good = Array.from({ length: 9 }, () => check(key.id, orgId));
    const parsed = parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, good));
    // As if a value slipped past parseUsageBatch's checks: the write itself must catch it.
    const slipped = { ...parsed.events[4], path: 'a\u0000' };
    const batch = { ...parsed, events: [...parsed.events.slice(0, 4), slipped, ...parsed.events.slice(4)] };

    const recorded = await harness.get(UsageLedgerService).record(batch);

    expect(recorded.counted).toBe(true);
    expect(recorded.events).toHaveLength(9);
    expect(recorded.quarantined).toHaveLength(1);
    expect(recorded.quarantined[0].reason).toMatch(/^Postgres refused the event \(SQLSTATE 22[0-9A-Z]{3}\)$/);
    expect(await countedFor(key.id)).toBe(9);
    const kept = await sql<{ event: string }>('select event from usage_quarantined_events where batch_id = ?', [batch.batchId]);
    expect(kept.map((row) => (JSON.parse(row.event) as UsageEvent).path)).toEqual(['a\u0000']);
  });
});
