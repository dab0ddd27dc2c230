import { EntityManager } from '@mikro-orm/postgresql';

import { ulidAt } from '@latchkey/ids';

import { OutboxPruner } from '../../../apps/usage-worker/src/retention/outbox-pruner.service';
import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { UsageMaintenanceRunner } from './usage-maintenance-runner';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * What the usage worker's maintenance job deletes outside metering so no table only
 * grows, and what it must keep: the outbox's relayed rows after OUTBOX_RETENTION_DAYS.
 */
describe('usage-worker: retention of the outbox', () => {
  let sut: TestApp;
  let maintenance: UsageMaintenanceRunner;
  let orgId: string;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);

  beforeAll(async () => {
    sut = await TestApp.start();
    orgId = (await signUp(sut)).orgId;
    maintenance = await UsageMaintenanceRunner.start(sut);
  });

  afterAll(async () => {
    await maintenance.close();
    await sut.close();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    sut.app.get(EntityManager).fork().execute<T[]>(query, params);

  /** An id of the kind the app makes at `createdAt`: the pruners find rows by that id's time. */
  const idAt = (prefix: string, createdAt: Date) => `${prefix}_${ulidAt(createdAt.getTime())}`;

  async function outboxRow(createdAt: Date, relayedAt: Date | null): Promise<string> {
    const id = idAt('evt', createdAt);
    await sql(
      `insert into outbox_events (id, org_id, environment, type, data, created_at, relayed_at)
       values (?, ?, null, 'member.added', '{}', ?, ?)`,
      [id, orgId, createdAt, relayedAt],
    );
    return id;
  }

  /** Which of these rows of `table` are left, by id. */
  const left = async (table: string, ids: string[]) =>
    (await sql<{ id: string }>(`select id from ${table} where id in (${ids.map(() => '?').join(', ')}) order by id`, ids)).map(
      (row) => row.id,
    );

  it('deletes outbox rows relayed more than 7 days ago, and keeps recent and unrelayed ones', async () => {
    const old = await outboxRow(ago(30 * DAY_MS), ago(30 * DAY_MS - 1_000));
    const relayedLate = await outboxRow(ago(30 * DAY_MS), ago(6 * DAY_MS));
    const recent = await outboxRow(ago(6 * DAY_MS), ago(6 * DAY_MS - 1_000));
    const neverRelayed = await outboxRow(ago(30 * DAY_MS), null);

    const run = await maintenance.run(now);

    expect(run.outboxEvents).toBe(1);
    expect(await left('outbox_events', [old, relayedLate, recent, neverRelayed])).toEqual([relayedLate, recent, neverRelayed].sort());
  });

  it('deletes a backlog larger than one batch in several rounds, and stops at the round limit', async () => {
    const backlog: string[] = [];
    for (let index = 0; index < 7; index += 1) backlog.push(await outboxRow(ago(20 * DAY_MS + index * HOUR_MS), ago(20 * DAY_MS)));
    const pruner = sut.app.get(OutboxPruner);

    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 2 })).toEqual({ deleted: 4, complete: false });
    expect(await left('outbox_events', backlog)).toHaveLength(3);
    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 10 })).toEqual({ deleted: 3, complete: true });
    expect(await left('outbox_events', backlog)).toEqual([]);
  });
});
