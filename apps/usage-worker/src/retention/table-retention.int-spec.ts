import { randomBytes } from 'node:crypto';

import { ulidAt } from '@latchkey/ids';

import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { USAGE_MAINTENANCE_PROVIDERS, UsageMaintenanceRuns } from '../../../../test/support/usage-maintenance-runs';
import { addHookEndpoint } from '../../../../test/support/webhook-fixtures';
import { EndedCredentialsPruner } from './ended-credentials-pruner.service';
import { OutboxPruner } from './outbox-pruner.service';
import { WebhookDeliveriesPruner } from './webhook-deliveries-pruner.service';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * What the usage worker's maintenance job deletes outside metering so no table only
 * grows, and what it must keep: the outbox's relayed rows after OUTBOX_RETENTION_DAYS,
 * finished webhook deliveries (and their attempts) after WEBHOOK_DELIVERY_RETENTION_DAYS,
 * sessions and mailed tokens a day after they ended. Rows dated in the past have no API,
 * so they are written here as the services would have written them then.
 */
describe('table retention: the outbox, webhook deliveries, sessions and tokens', () => {
  let harness: ServiceHarness;
  let maintenance: UsageMaintenanceRuns;
  let orgId: string;
  let userId: string;
  let sessionId: string;
  let endpointId: string;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: USAGE_MAINTENANCE_PROVIDERS });
    const member = await seedOrg(harness.em());
    ({ orgId, userId } = member);
    sessionId = member.principal.sessionId;
    endpointId = await addHookEndpoint(harness, harness.config.ENCRYPTION_KEY, orgId, 'https://hooks.example.com/retention');
    maintenance = await UsageMaintenanceRuns.start(harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** An id of the kind the app makes at `createdAt`: the pruners find rows by that id's time. */
  const idAt = (prefix: string, createdAt: Date) => `${prefix}_${ulidAt(createdAt.getTime())}`;

  async function outboxRow(createdAt: Date, relayedAt: Date | null): Promise<string> {
    const id = idAt('evt', createdAt);
    await harness.sql(
      `insert into outbox_events (id, org_id, environment, type, data, created_at, relayed_at)
       values (?, ?, null, 'member.added', '{}', ?, ?)`,
      [id, orgId, createdAt, relayedAt],
    );
    return id;
  }

  /** Which of these rows of `table` are left, by id. */
  const left = async (table: string, ids: string[]) =>
    (await harness.sql<{ id: string }>(`select id from ${table} where id in (${ids.map(() => '?').join(', ')}) order by id`, ids)).map(
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
    const pruner = harness.get(OutboxPruner);

    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 2 })).toEqual({ deleted: 4, complete: false });
    expect(await left('outbox_events', backlog)).toHaveLength(3);
    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 10 })).toEqual({ deleted: 3, complete: true });
    expect(await left('outbox_events', backlog)).toEqual([]);
  });

  async function delivery(status: string, createdAt: Date, updatedAt: Date, attempts = 2): Promise<string> {
    const id = idAt('del', createdAt);
    await harness.sql(
      `insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, payload, status, attempt_count, created_at, updated_at)
       values (?, ?, ?, ?, 'member.added', '{}', ?, ?, ?, ?)`,
      [id, orgId, endpointId, idAt('evt', createdAt), status, attempts, createdAt, updatedAt],
    );
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      await harness.sql(
        `insert into webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms) values (?, ?, 500, 10)`,
        [id, updatedAt],
      );
    }
    return id;
  }

  const attemptsOf = async (ids: string[]) =>
    (
      await harness.sql<{ delivery_id: string }>(
        `select delivery_id from webhook_delivery_attempts where delivery_id in (${ids.map(() => '?').join(', ')})`,
        ids,
      )
    ).length;

  it('deletes deliveries finished more than 30 days ago with their attempts, never a pending one', async () => {
    const succeeded = await delivery('succeeded', ago(40 * DAY_MS), ago(40 * DAY_MS));
    const failed = await delivery('failed', ago(40 * DAY_MS), ago(35 * DAY_MS));
    // Failed long ago, then sent again by hand: its retention counts from the new outcome.
    const retriedLately = await delivery('failed', ago(40 * DAY_MS), ago(29 * DAY_MS));
    const recent = await delivery('succeeded', ago(29 * DAY_MS), ago(29 * DAY_MS));
    const stillPending = await delivery('pending', ago(40 * DAY_MS), ago(40 * DAY_MS));

    const run = await maintenance.run(now);

    expect(run.webhookDeliveries).toBe(2);
    expect(await left('webhook_deliveries', [succeeded, failed, retriedLately, recent, stillPending])).toEqual(
      [retriedLately, recent, stillPending].sort(),
    );
    expect(await attemptsOf([succeeded, failed])).toBe(0);
    expect(await attemptsOf([retriedLately, recent, stillPending])).toBe(6);
  });

  it('deletes a backlog of finished deliveries larger than one batch', async () => {
    const backlog: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      backlog.push(await delivery('succeeded', ago(60 * DAY_MS + index * HOUR_MS), ago(60 * DAY_MS)));
    }
    const pruner = harness.get(WebhookDeliveriesPruner);

    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 10 })).toEqual({ deleted: 5, complete: true });
    expect(await left('webhook_deliveries', backlog)).toEqual([]);
    expect(await attemptsOf(backlog)).toBe(0);
  });

  const tokenHash = () => randomBytes(32).toString('hex');

  async function session(createdAt: Date, expiresAt: Date, revokedAt: Date | null = null): Promise<string> {
    const id = idAt('ses', createdAt);
    await harness.sql(
      `insert into sessions (id, token_hash, user_id, org_id, created_at, expires_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?)`,
      [id, tokenHash(), userId, orgId, createdAt, expiresAt, revokedAt],
    );
    return id;
  }

  async function userToken(createdAt: Date, expiresAt: Date, usedAt: Date | null = null): Promise<string> {
    const id = idAt('utk', createdAt);
    await harness.sql(
      `insert into user_tokens (id, user_id, purpose, token_hash, expires_at, used_at, created_at) values (?, ?, 'password_reset', ?, ?, ?, ?)`,
      [id, userId, tokenHash(), expiresAt, usedAt, createdAt],
    );
    return id;
  }

  it('deletes sessions and mailed tokens a day after they expired, were revoked or were used', async () => {
    const expired = await session(ago(3 * DAY_MS), ago(2 * DAY_MS));
    const revoked = await session(ago(3 * DAY_MS), ago(-DAY_MS), ago(2 * DAY_MS));
    const justExpired = await session(ago(DAY_MS), ago(12 * HOUR_MS));
    const justRevoked = await session(ago(3 * DAY_MS), ago(-DAY_MS), ago(12 * HOUR_MS));
    // Made long ago and still live (a long SESSION_TTL_HOURS).
    const live = await session(ago(30 * DAY_MS), ago(-DAY_MS));
    const expiredToken = await userToken(ago(3 * DAY_MS), ago(2 * DAY_MS));
    const usedToken = await userToken(ago(3 * DAY_MS), ago(-DAY_MS), ago(2 * DAY_MS));
    const justUsedToken = await userToken(ago(DAY_MS), ago(-DAY_MS), ago(12 * HOUR_MS));
    const liveToken = await userToken(ago(2 * DAY_MS), ago(-DAY_MS));

    const run = await maintenance.run(now);

    expect(run.credentials).toEqual({ sessions: 2, userTokens: 2 });
    expect(await left('sessions', [expired, revoked, justExpired, justRevoked, live])).toEqual([justExpired, justRevoked, live].sort());
    expect(await left('user_tokens', [expiredToken, usedToken, justUsedToken, liveToken])).toEqual([justUsedToken, liveToken].sort());
    // The seeded member's own session (signed in now) is still there.
    expect(await left('sessions', [sessionId])).toEqual([sessionId]);
  });

  it('deletes a backlog of ended sessions and tokens larger than one batch', async () => {
    const sessions: string[] = [];
    const tokens: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      sessions.push(await session(ago(10 * DAY_MS + index * HOUR_MS), ago(9 * DAY_MS)));
      tokens.push(await userToken(ago(10 * DAY_MS + index * HOUR_MS), ago(9 * DAY_MS)));
    }
    const pruner = harness.get(EndedCredentialsPruner);

    expect(await pruner.prune(now, { batchSize: 2, maxBatches: 10 })).toEqual({ sessions: 5, userTokens: 5 });
    expect(await left('sessions', sessions)).toEqual([]);
    expect(await left('user_tokens', tokens)).toEqual([]);
  });
});
