import { randomUUID } from 'node:crypto';

import { ApiKey } from '@latchkey/db';

import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { seedApiKey, USAGE_CONSUMER_PROVIDERS } from '../../../../test/support/usage-consumer';
import { USAGE_MAINTENANCE_PROVIDERS, UsageMaintenanceRuns } from '../../../../test/support/usage-maintenance-runs';
import { MaintenanceRun } from './usage-maintenance.processor';

const DAY_MS = 86_400_000;

/**
 * What the usage worker's maintenance job prunes so nothing grows forever: minute
 * counters after 7 days, hour counters after 90 (day counters stay), counted batch
 * ids after 30 days, and reminder records that can no longer stop a repeat. Rows dated
 * in the past are written with SQL (no route makes them) and the job is run through
 * its queue. What a client sees of it (old minutes refused by the usage endpoint) is
 * test/e2e/usage-worker/usage-pruning.e2e-spec.ts.
 */
describe('usage maintenance: pruning old usage rows', () => {
  let harness: ServiceHarness;
  let maintenance: UsageMaintenanceRuns;
  let orgId: string;
  const now = new Date();
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [...USAGE_CONSUMER_PROVIDERS, ...USAGE_MAINTENANCE_PROVIDERS] });
    orgId = (await seedOrg(harness.em())).orgId;
    maintenance = await UsageMaintenanceRuns.start(harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => harness.sql<T>(query, params);

  const runMaintenance = (): Promise<MaintenanceRun> => maintenance.run(now);

  function newKey(fields: Partial<Pick<ApiKey, 'revokedAt' | 'expiresAt' | 'secretRotatedAt'>> = {}): Promise<ApiKey> {
    return seedApiKey(harness.em(), orgId, {
      environment: 'live',
      name: 'pruning',
      createdAt: ago(200),
      secretRotatedAt: ago(200),
      revokedAt: null,
      expiresAt: null,
      ...fields,
    });
  }

  async function sent(keyId: string, kind: string, sentAt: Date): Promise<void> {
    await sql('insert into reminders_sent (key_id, kind, org_id, sent_at) values (?, ?, ?, ?)', [keyId, kind, orgId, sentAt]);
  }

  const kindsOf = async (keyId: string) =>
    (await sql<{ kind: string }>('select kind from reminders_sent where key_id = ? order by kind', [keyId])).map((row) => row.kind);

  it('keeps minute counters 7 days and hour counters 90 days, day counters for good', async () => {
    const keyId = `key_${randomUUID()}`;
    const counter = (granularity: string, at: Date) =>
      sql(
        `insert into usage_counters (key_id, granularity, bucket_start, code, org_id, environment, count)
         values (?, ?, ?, 'VALID', ?, 'live', 1)`,
        [keyId, granularity, at, orgId],
      );
    await counter('minute', ago(8));
    await counter('minute', ago(6));
    await counter('hour', ago(91));
    await counter('hour', ago(89));
    await counter('day', ago(400));

    const run = await runMaintenance();
    expect(run.usage.counters).toMatchObject({ minute: 1, hour: 1 });
    const left = await sql<{ granularity: string; bucket_start: Date }>(
      'select granularity, bucket_start from usage_counters where key_id = ? order by granularity, bucket_start',
      [keyId],
    );
    expect(left.map((row) => [row.granularity, Math.round((now.getTime() - new Date(row.bucket_start).getTime()) / DAY_MS)])).toEqual([
      ['day', 400],
      ['hour', 89],
      ['minute', 6],
    ]);
  });

  it('forgets counted batch ids after 30 days, well past any redelivery', async () => {
    await sql('insert into usage_processed_batches (batch_id, processed_at) values (?, ?), (?, ?)', [
      'bat_old',
      ago(31),
      'bat_recent',
      ago(29),
    ]);
    const run = await runMaintenance();
    expect(run.usage.processedBatches).toBe(1);
    const left = await sql<{ batch_id: string }>("select batch_id from usage_processed_batches where batch_id like 'bat\\_%' order by 1");
    expect(left.map((row) => row.batch_id)).toEqual(['bat_recent']);
  });

  it('prunes reminder records that can no longer stop a repeat, and keeps those that can', async () => {
    const deletedKeyId = `key_${randomUUID()}`;
    await sent(deletedKeyId, 'expired', ago(61));
    const recentlyDeletedKeyId = `key_${randomUUID()}`;
    await sent(recentlyDeletedKeyId, 'expiring_7d', ago(10));

    const revoked = await newKey({ revokedAt: ago(61) });
    await sent(revoked.id, `rotation_due:${revoked.secretRotatedAt.toISOString()}`, ago(70));
    // A refused check still reaches the quota watcher, and a total quota never turns over.
    await sent(revoked.id, 'quota_warning:total', ago(70));

    const longExpired = await newKey({ expiresAt: ago(61) });
    await sent(longExpired.id, 'expired', ago(61));
    const recentlyExpired = await newKey({ expiresAt: ago(10) });
    await sent(recentlyExpired.id, 'expired', ago(10));

    // Its expiry was moved twice: reminders of a date long past go, those of a recent one stay.
    const moved = await newKey({ expiresAt: ago(-30) });
    await sent(moved.id, `expiring_7d:${ago(61).toISOString()}`, ago(68));
    await sent(moved.id, `expiring_1d:${ago(10).toISOString()}`, ago(11));

    const rolled = await newKey({ secretRotatedAt: ago(5) });
    await sent(rolled.id, `rotation_due:${ago(200).toISOString()}`, ago(100));
    await sent(rolled.id, `rotation_due:${rolled.secretRotatedAt.toISOString()}`, ago(1));

    const quota = await newKey();
    await sent(quota.id, `quota_warning:${ago(33).toISOString().slice(0, 10)}`, ago(33));
    await sent(quota.id, `quota_exceeded:${ago(31).toISOString().slice(0, 7)}`, ago(31));
    await sent(quota.id, 'quota_exceeded:total', ago(100));

    const run = await runMaintenance();
    expect(run.reminders).toEqual({ settledKeys: 3, pastExpiries: 1, earlierRotations: 1, pastQuotaPeriods: 1 });
    expect(await kindsOf(deletedKeyId)).toEqual([]);
    expect(await kindsOf(recentlyDeletedKeyId)).toEqual(['expiring_7d']);
    expect(await kindsOf(revoked.id)).toEqual(['quota_warning:total']);
    expect(await kindsOf(longExpired.id)).toEqual([]);
    expect(await kindsOf(recentlyExpired.id)).toEqual(['expired']);
    expect(await kindsOf(moved.id)).toEqual([`expiring_1d:${ago(10).toISOString()}`]);
    expect(await kindsOf(rolled.id)).toEqual([`rotation_due:${rolled.secretRotatedAt.toISOString()}`]);
    expect(await kindsOf(quota.id)).toEqual([`quota_exceeded:${ago(31).toISOString().slice(0, 7)}`, 'quota_exceeded:total']);
  });
});
