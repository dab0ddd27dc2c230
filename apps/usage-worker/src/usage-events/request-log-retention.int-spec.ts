import { randomUUID } from 'node:crypto';

import { OrganizationReply, OrgsPattern, usageBatchOf, UsageEvent } from '@latchkey/contracts';
import { ApiKey, DEFAULT_ORGANIZATION_SETTINGS, Organization } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { RpcClient } from '@latchkey/platform';

import { SeededMember, seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { USAGE_MAINTENANCE_PROVIDERS, UsageMaintenanceRuns } from '../../../../test/support/usage-maintenance-runs';
import { ListRequestLogsQueryDto } from '../../../key-issuer/src/usage-reports/dto/list-request-logs-query.dto';
import { UsageReportsService } from '../../../key-issuer/src/usage-reports/usage-reports.service';
import { parseUsageBatch } from './usage-batch';
import { UsageLedgerService } from './usage-ledger.service';
import { MaintenanceRun } from './usage-maintenance.processor';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Per-organisation request-log retention (`request_log_retention_{test,live}_days`),
 * over the deployment's defaults (test 7 days, live 90 days): what the ledger writes,
 * what the maintenance job deletes and which day partitions it keeps, and what the
 * logs endpoint's service (key-issuer's UsageReportsService) lists meanwhile. Checks
 * dated days ago have no API, so the ledger records them as it would have then.
 */
describe('request-log retention per organisation', () => {
  let harness: ServiceHarness;
  let maintenance: UsageMaintenanceRuns;
  let ledger: UsageLedgerService;
  let reports: UsageReportsService;
  /** One clock for the whole file: checks are dated from it, and maintenance runs and lists at it. */
  const now = new Date();
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);

  /** org-api's answer over RPC, from the organisation's stored settings. */
  const orgApi = {
    send: async (pattern: string, payload: { org_id: string }): Promise<Pick<OrganizationReply, 'id' | 'settings'>> => {
      if (pattern !== OrgsPattern.GetOrganization) throw new Error(`unexpected RPC ${pattern}`);
      const [org] = await harness.sql<{ settings: Partial<OrganizationReply['settings']> }>(
        'select settings from organizations where id = ?',
        [payload.org_id],
      );
      return { id: payload.org_id, settings: { ...DEFAULT_ORGANIZATION_SETTINGS, ...org.settings } };
    },
  };

  beforeAll(async () => {
    harness = await ServiceHarness.start({
      providers: [...USAGE_MAINTENANCE_PROVIDERS, UsageLedgerService, UsageReportsService, { provide: RpcClient, useValue: orgApi }],
    });
    ledger = harness.get(UsageLedgerService);
    reports = harness.get(UsageReportsService);
    maintenance = await UsageMaintenanceRuns.start(harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  interface Tenant {
    member: SeededMember;
    keyId: string;
  }

  /** An organisation with `settings` over the defaults (as PATCH /v1/orgs/current/settings stores them) and a test key. */
  async function tenant(settings: Record<string, number> = {}): Promise<Tenant> {
    const member = await seedOrg(harness.em());
    if (Object.keys(settings).length > 0) {
      await harness.sql('update organizations set settings = settings || ?::jsonb where id = ?', [JSON.stringify(settings), member.orgId]);
    }
    const em = harness.em();
    const key = em.create(ApiKey, {
      organization: em.getReference(Organization, member.orgId),
      environment: 'test',
      name: 'logged',
      prefix: 'sk_test_',
      last4: 'abcd',
      secretHash: newId(IdPrefix.ApiKey),
      createdBy: member.userId,
    });
    await em.flush();
    return { member, keyId: key.id };
  }

  /** One check, counted and logged by the ledger at the time it happened (so it was inside every window then). */
  async function checkAt(who: Tenant, at: Date, environment: 'test' | 'live' = 'test'): Promise<void> {
    const event: UsageEvent = {
      key_id: who.keyId,
      org_id: who.member.orgId,
      environment,
      code: 'VALID',
      ip: '203.0.113.9',
      method: 'GET',
      path: '/v1/things',
      at: at.toISOString(),
      latency_us: 100,
    };
    const recorded = await ledger.record(parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, [event])), at);
    expect(recorded.counted).toBe(true);
  }

  /** Ages in whole days (rounded) of the organisation's stored rows, newest first. */
  async function storedAges(who: Tenant, environment: 'test' | 'live' = 'test'): Promise<number[]> {
    const rows = await harness.sql<{ at: Date }>('select at from request_logs where org_id = ? and environment = ? order by at desc', [
      who.member.orgId,
      environment,
    ]);
    return rows.map((row) => Math.round((now.getTime() - new Date(row.at).getTime()) / DAY_MS));
  }

  /** Ages of the rows the logs endpoint (GET /v1/logs) shows the organisation. */
  async function listedAges(who: Tenant, environment?: 'test' | 'live'): Promise<number[]> {
    const query = Object.assign(new ListRequestLogsQueryDto(), environment ? { environment } : {});
    const page = await harness.inRequest(() => reports.listLogs(who.member.principal, query, { limit: 100 }, now));
    return page.items.map((row) => Math.round((now.getTime() - new Date(row.at).getTime()) / DAY_MS));
  }

  const runMaintenance = (): Promise<MaintenanceRun> => maintenance.run(now);

  it('deletes the rows an organisation with a shorter window no longer keeps, and never lists them; others keep theirs', async () => {
    const short = await tenant({ request_log_retention_test_days: 3 });
    const plain = await tenant();
    for (const who of [short, plain]) {
      for (const days of [1, 2, 4, 5, 6]) await checkAt(who, new Date(ago(days).getTime() + HOUR_MS));
    }
    // Live logs follow the live window (the default 90 days): the test override does not touch them.
    await checkAt(short, ago(20), 'live');

    // Listed by the organisation's own window at once, before any deletion.
    expect(await listedAges(short, 'test')).toEqual([1, 2]);
    expect(await listedAges(short)).toEqual([1, 2, 20]);
    expect(await listedAges(plain)).toEqual([1, 2, 4, 5, 6]);
    expect(await storedAges(short)).toEqual([1, 2, 4, 5, 6]);

    const run = await runMaintenance();
    expect(run.windows.test).toEqual({ defaultDays: 7, longestDays: 7 });
    expect(run.orgRowsDeleted).toBe(3);
    expect(await storedAges(short)).toEqual([1, 2]);
    expect(await storedAges(short, 'live')).toEqual([20]);
    expect(await storedAges(plain)).toEqual([1, 2, 4, 5, 6]);

    // A second run finds nothing more to do.
    expect((await runMaintenance()).orgRowsDeleted).toBe(0);
    expect(await storedAges(plain)).toEqual([1, 2, 4, 5, 6]);
  });

  it('does not write a late check already past its organisation’s window', async () => {
    const short = await tenant({ request_log_retention_test_days: 2 });
    await checkAt(short, ago(1));
    // Counted (usage is exact), but its log would only be deleted again.
    const event: UsageEvent = {
      key_id: short.keyId,
      org_id: short.member.orgId,
      environment: 'test',
      code: 'VALID',
      ip: null,
      method: null,
      path: null,
      at: ago(3).toISOString(),
      latency_us: 1,
    };
    await ledger.record(parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, [event])), now);
    expect(await storedAges(short)).toEqual([1]);
    const [counted] = await harness.sql<{ n: string }>(
      `select sum(count) as n from usage_counters where key_id = ? and granularity = 'day'`,
      [short.keyId],
    );
    expect(Number(counted.n)).toBe(2);
  });

  it('keeps the days an organisation with a longer window needs, while organisations on the default still lose (and never see) theirs', async () => {
    const long = await tenant({ request_log_retention_test_days: 10 });
    const plain = await tenant();
    for (const days of [8, 9, 11]) await checkAt(long, new Date(ago(days).getTime() + HOUR_MS));
    await checkAt(plain, new Date(ago(8).getTime() + HOUR_MS));
    await checkAt(plain, new Date(ago(1).getTime() + HOUR_MS));

    expect(await listedAges(long)).toEqual([8, 9]);
    expect(await listedAges(plain)).toEqual([1]);

    const run = await runMaintenance();
    expect(run.windows.test).toEqual({ defaultDays: 7, longestDays: 10 });
    expect(await storedAges(long)).toEqual([8, 9]);
    expect(await storedAges(plain)).toEqual([1]);
    expect(await listedAges(long)).toEqual([8, 9]);
    // The day partitions of 8 and 9 days ago are kept (for `long`), nothing older.
    const days = await harness.sql<{ name: string }>(
      `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
        where p.relname = 'request_logs_test' and c.relname <> 'request_logs_test_default'`,
    );
    const oldest = days.map((row) => row.name).sort()[0];
    const dayName = (at: Date) => `request_logs_test_${at.toISOString().slice(0, 10).replaceAll('-', '')}`;
    expect(oldest >= dayName(ago(10))).toBe(true);
    expect(days.map((row) => row.name)).toContain(dayName(new Date(ago(9).getTime() + HOUR_MS)));
  });
});
