import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { OrganizationReply, OrgsPattern, usageBatchOf, UsageEvent } from '@latchkey/contracts';
import { DEFAULT_ORGANIZATION_SETTINGS } from '@latchkey/db';
import { RpcClient } from '@latchkey/platform';

import { SeededMember, seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { USAGE_MAINTENANCE_PROVIDERS, UsageMaintenanceRuns } from '../../../../test/support/usage-maintenance-runs';
import { waitUntil } from '../../../../test/support/wait-until';
import { ListRequestLogsQueryDto } from '../../../key-issuer/src/usage-reports/dto/list-request-logs-query.dto';
import { UsageReportsService } from '../../../key-issuer/src/usage-reports/usage-reports.service';
import { PARTITION_DAYS_AHEAD, partitionName, RequestLogPartitionsService } from './request-log-partitions.service';
import { parseUsageBatch } from './usage-batch';
import { UsageLedgerService } from './usage-ledger.service';

const DAY_MS = 86_400_000;

/**
 * Request-log partitions never come in the way of reads: the insert path runs no DDL
 * (a day without a partition goes to the DEFAULT partition), and the maintenance DDL
 * gives up rather than wait behind readers for long. Creating partitions on demand
 * inside the batch's path took an ACCESS EXCLUSIVE lock while `GET /v1/logs` held
 * shared ones on both environments: a deadlock (40P01). The maintenance job runs as
 * the worker runs it (its scheduler's first run at start); the logs endpoint's
 * service (key-issuer's UsageReportsService) reads what was logged.
 */
describe(RequestLogPartitionsService.name, () => {
  let harness: ServiceHarness;
  let partitionsService: RequestLogPartitionsService;
  let owner: SeededMember;
  /** A second connection, as a `GET /v1/logs` in flight holds its locks. */
  let reader: Client;
  /** A day past the partitions kept ahead, but inside what the worker logs. */
  const unpartitionedDay = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + (PARTITION_DAYS_AHEAD + 2) * DAY_MS);

  /** org-api's answer over RPC: every organisation here is on the defaults. */
  const orgApi = {
    send: async (pattern: string, payload: { org_id: string }): Promise<Pick<OrganizationReply, 'id' | 'settings'>> => {
      if (pattern !== OrgsPattern.GetOrganization) throw new Error(`unexpected RPC ${pattern}`);
      return { id: payload.org_id, settings: { ...DEFAULT_ORGANIZATION_SETTINGS } };
    },
  };

  beforeAll(async () => {
    harness = await ServiceHarness.start({
      providers: [...USAGE_MAINTENANCE_PROVIDERS, UsageLedgerService, UsageReportsService, { provide: RpcClient, useValue: orgApi }],
    });
    partitionsService = harness.get(RequestLogPartitionsService);
    // The job scheduler's first run starts with the service; past it, nothing else makes partitions while these tests look.
    await UsageMaintenanceRuns.start(harness);
    owner = await seedOrg(harness.em());
    reader = new Client({ connectionString: harness.env.databaseUrl });
    await reader.connect();
  });

  afterAll(async () => {
    await reader?.end();
    await harness?.close();
  });

  function event(at: Date): UsageEvent {
    return {
      key_id: null,
      org_id: owner.orgId,
      environment: 'test',
      code: 'NOT_FOUND',
      ip: '198.51.100.2',
      method: 'GET',
      path: '/v1/x',
      at: at.toISOString(),
      latency_us: 5,
    };
  }

  async function record(events: UsageEvent[]): Promise<void> {
    await harness.get(UsageLedgerService).record(parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, events)));
  }

  /** Starts a transaction that reads request_logs the way GET /v1/logs does and keeps its locks until `end`. */
  async function holdReadLocks(): Promise<{ end: () => Promise<void> }> {
    await reader.query('begin');
    await reader.query('select id from request_logs where org_id = $1 order by id desc limit 20', [owner.orgId]);
    return { end: async () => void (await reader.query('commit')) };
  }

  async function tableOf(at: Date): Promise<string[]> {
    const rows = await reader.query<{ table: string }>(
      'select tableoid::regclass::text as table from request_logs where org_id = $1 and at = $2',
      [owner.orgId, at],
    );
    return rows.rows.map((row) => row.table);
  }

  const partitions = () => partitionsService.partitionsOf(['test']);

  it('keeps today and the next days ready from the start', async () => {
    const now = Date.now();
    const expected = Array.from({ length: PARTITION_DAYS_AHEAD + 1 }, (_, ahead) => partitionName('test', new Date(now + ahead * DAY_MS)));
    // The worker creates them as it starts, without holding up the boot.
    let current: string[] = [];
    await waitUntil(
      async () => {
        current = await partitions();
        return expected.every((name) => current.includes(name));
      },
      10_000,
      () => `the days ahead, have ${current.join(', ')}`,
    );
    expect(current).toEqual(expect.arrayContaining(expected));
  });

  it('logs a check whose day has no partition into the DEFAULT partition, without DDL, while a read holds its locks', async () => {
    expect(await partitions()).not.toContain(partitionName('test', unpartitionedDay));
    const read = await holdReadLocks();
    try {
      // Creating the day here would wait for the read to end (and the test would time out).
      await record([event(new Date(unpartitionedDay.getTime() + 3_600_000)), event(new Date())]);
    } finally {
      await read.end();
    }
    expect(await tableOf(new Date(unpartitionedDay.getTime() + 3_600_000))).toEqual(['request_logs_test_default']);
    expect(await partitions()).not.toContain(partitionName('test', unpartitionedDay));
    const listed = await harness.inRequest(() =>
      harness.get(UsageReportsService).listLogs(owner.principal, new ListRequestLogsQueryDto(), { limit: 100 }),
    );
    expect(listed.items).toHaveLength(2);
  });

  it('gives way to a read rather than queueing DDL behind it, and creates the day (moving its waiting rows in) once it can', async () => {
    const maintenance = partitionsService;
    const read = await holdReadLocks();
    try {
      // A few tries of a bounded wait each, then it leaves the day to the next run.
      expect(await maintenance.ensure([{ environment: 'test', at: unpartitionedDay }])).toEqual([]);
    } finally {
      await read.end();
    }
    expect(await partitions()).not.toContain(partitionName('test', unpartitionedDay));

    expect(await maintenance.ensure([{ environment: 'test', at: unpartitionedDay }])).toEqual([partitionName('test', unpartitionedDay)]);
    expect(await tableOf(new Date(unpartitionedDay.getTime() + 3_600_000))).toEqual([partitionName('test', unpartitionedDay)]);
    // Indexed like its siblings (Postgres adds the parent's indexes on attach).
    const indexes = await reader.query<{ name: string }>(
      'select indexrelid::regclass::text as name from pg_index where indrelid = $1::regclass',
      [partitionName('test', unpartitionedDay)],
    );
    expect(indexes.rows).toHaveLength(3);
    // New checks of that day now go straight to it.
    const later = new Date(unpartitionedDay.getTime() + 7_200_000);
    await record([event(later)]);
    expect(await tableOf(later)).toEqual([partitionName('test', unpartitionedDay)]);
    // Creating it again is a no-op.
    expect(await maintenance.ensure([{ environment: 'test', at: unpartitionedDay }])).toEqual([]);
  });
});
