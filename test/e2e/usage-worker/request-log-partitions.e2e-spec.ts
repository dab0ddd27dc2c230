import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from 'pg';

import { usageBatchOf, UsageEvent } from '@latchkey/contracts';

import {
  PARTITION_DAYS_AHEAD,
  partitionName,
  RequestLogPartitionsService,
} from '../../../apps/usage-worker/src/usage-events/request-log-partitions.service';
import { parseUsageBatch } from '../../../apps/usage-worker/src/usage-events/usage-batch';
import { UsageLedgerService } from '../../../apps/usage-worker/src/usage-events/usage-ledger.service';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { UsageMaintenanceRunner } from './usage-maintenance-runner';

const DAY_MS = 86_400_000;

/**
 * Request-log partitions never come in the way of reads: the insert path runs no DDL
 * (a day without a partition goes to the DEFAULT partition), and the maintenance DDL
 * gives up rather than wait behind readers for long. Creating partitions on demand
 * inside the batch's path took an ACCESS EXCLUSIVE lock while `GET /v1/logs` held
 * shared ones on both environments: a deadlock (40P01).
 */
describe('usage-worker: request-log partitions and readers', () => {
  let sut: TestApp;
  let owner: UserSession;
  /** A second connection, as a `GET /v1/logs` in flight holds its locks. */
  let reader: Client;
  /** A day past the partitions kept ahead, but inside what the worker logs. */
  const unpartitionedDay = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + (PARTITION_DAYS_AHEAD + 2) * DAY_MS);

  beforeAll(async () => {
    sut = await TestApp.start();
    // The job scheduler's first run starts with the app; past it, nothing else makes partitions while these tests look.
    await (await UsageMaintenanceRunner.start(sut)).close();
    owner = await signUp(sut);
    reader = new Client({ connectionString: sut.env.databaseUrl });
    await reader.connect();
  });

  afterAll(async () => {
    await reader.end();
    await sut.close();
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
    await sut.app.get(UsageLedgerService).record(parseUsageBatch(usageBatchOf(`bat_${randomUUID()}`, events)));
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

  const partitions = () => sut.app.get(RequestLogPartitionsService).partitionsOf(['test']);

  it('keeps today and the next days ready from the start', async () => {
    const now = Date.now();
    const expected = Array.from({ length: PARTITION_DAYS_AHEAD + 1 }, (_, ahead) => partitionName('test', new Date(now + ahead * DAY_MS)));
    // The worker creates them as it starts, without holding up the boot.
    let current = await partitions();
    const deadline = Date.now() + 10_000;
    while (!expected.every((name) => current.includes(name)) && Date.now() < deadline) {
      await sleep(50);
      current = await partitions();
    }
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
    const listed = await sut.get('/v1/logs', { token: owner.token, query: { limit: '100' } });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
  });

  it('gives way to a read rather than queueing DDL behind it, and creates the day (moving its waiting rows in) once it can', async () => {
    const maintenance = sut.app.get(RequestLogPartitionsService);
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
