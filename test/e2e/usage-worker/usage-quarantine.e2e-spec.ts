import { randomUUID } from 'node:crypto';

import { Job } from 'bullmq';

import { usageBatchOf, UsageEvent, VerifyCode } from '@latchkey/contracts';

import { parseUsageBatch } from '../../../apps/usage-worker/src/usage-events/usage-batch';
import { UsageLedgerService } from '../../../apps/usage-worker/src/usage-events/usage-ledger.service';
import { TestApp } from '../../support/create-test-app';
import { insertApiKey, signUp, UserSession } from '../../support/factories';
import { checkEvent, UsageLedgerProbe } from './usage-ledger-probe';

/**
 * One check that Postgres refuses (a NUL byte, a lone surrogate, a number past bigint)
 * used to fail the whole usage batch, which holds every tenant's checks of that flush,
 * until it was dropped. It is now set aside and the rest is counted, exactly once.
 */
describe('usage-worker: events Postgres refuses are quarantined, the rest of their batch is counted', () => {
  let sut: TestApp;
  let probe: UsageLedgerProbe;
  let tenants: UserSession[];

  beforeAll(async () => {
    sut = await TestApp.start();
    probe = new UsageLedgerProbe(sut);
    tenants = [await signUp(sut), await signUp(sut), await signUp(sut)];
  });

  afterAll(async () => {
    await probe.close();
    await sut.close();
  });

  const check = (keyId: string, orgId: string, overrides: Partial<UsageEvent> = {}) => checkEvent(keyId, orgId, overrides);
  const enqueue = (batchId: string, events: UsageEvent[], jobId = batchId): Promise<Job> =>
    probe.enqueue(usageBatchOf(batchId, events), jobId);
  const completed = (job: Job) => probe.completed(job);
  const countedFor = (keyId: string) => probe.countedFor(keyId);
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => probe.sql<T>(query, params);
  const loggedFor = async (keyId: string) =>
    Number((await sql<{ n: string }>('select count(*) as n from request_logs where key_id = ?', [keyId]))[0].n);
  const quarantinedMetric = () => probe.metric('usage_events_quarantined_total');

  it("counts every tenant's checks exactly once around poisoned ones, keeps the poisoned ones for the operator", async () => {
    const keys = await Promise.all(
      tenants
        .flatMap((tenant) => [insertApiKey(sut, tenant.orgId), insertApiKey(sut, tenant.orgId)])
        .map(async (inserted) => {
          const { key } = await inserted;
          return { id: key.id, orgId: key.organization.id };
        }),
    );
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
    const tenant = tenants[0];
    const { key } = await insertApiKey(sut, tenant.orgId);
    const good = Array.from({ length: 9 }, () => check(key.id, tenant.orgId));
    const parsed = parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, good));
    // As if a value slipped past parseUsageBatch's checks: the write itself must catch it.
    const slipped = { ...parsed.events[4], path: 'a\u0000' };
    const batch = { ...parsed, events: [...parsed.events.slice(0, 4), slipped, ...parsed.events.slice(4)] };

    const recorded = await sut.app.get(UsageLedgerService).record(batch);

    expect(recorded.counted).toBe(true);
    expect(recorded.events).toHaveLength(9);
    expect(recorded.quarantined).toHaveLength(1);
    expect(recorded.quarantined[0].reason).toMatch(/^Postgres refused the event \(SQLSTATE 22[0-9A-Z]{3}\)$/);
    expect(await countedFor(key.id)).toBe(9);
    const kept = await sql<{ event: string }>('select event from usage_quarantined_events where batch_id = ?', [batch.batchId]);
    expect(kept.map((row) => (JSON.parse(row.event) as UsageEvent).path)).toEqual(['a\u0000']);
  });

  it('lists quarantined events to the platform operator only', async () => {
    const listed = await sut.get('/v1/platform/usage-quarantine', { token: sut.config.PLATFORM_ADMIN_TOKEN, query: { limit: '2' } });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.has_more).toBe(true);
    expect(listed.body.data[0]).toEqual({
      id: expect.stringMatching(/^qev_/),
      batch_id: expect.stringMatching(/^bat_/),
      reason: expect.any(String),
      event: expect.any(String),
      quarantined_at: expect.any(String),
    });
    const next = await sut.get('/v1/platform/usage-quarantine', {
      token: sut.config.PLATFORM_ADMIN_TOKEN,
      query: { cursor: listed.body.next_cursor },
    });
    expect(next.body.data.map((row: { id: string }) => row.id)).not.toContain(listed.body.data[0].id);

    const asMember = await sut.get('/v1/platform/usage-quarantine', { token: tenants[0].token });
    expect(asMember.status).toBe(401);
    expect(asMember.body.success).toBe(false);
  });
});
