import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';
import { MaintenanceBoard } from './maintenance-board';

const DAY_MS = 86_400_000;

/**
 * Per-organisation request-log retention (`request_log_retention_{test,live}_days`),
 * over the deployment's defaults (test 7 days, live 90 days), as a customer sees it:
 * the setting through PATCH /v1/orgs/current/settings, the checks through POST
 * /v1/verify, what is kept through GET /v1/logs. Checks made now are inside every
 * window; the maintenance run an operator adds on Bull Board, dated days ahead, shows
 * what the hourly job deletes by then. Rows dated in the past, and the partitions kept
 * for them, are apps/usage-worker/src/usage-events/request-log-retention.int-spec.ts.
 */
describe('usage-worker: request-log retention per organisation', () => {
  let sut: TestApp;
  let board: MaintenanceBoard;

  beforeAll(async () => {
    // Sessions outlive the runs dated ahead (which prune sessions ended by then).
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50', SESSION_TTL_HOURS: String(24 * 30) } });
    board = new MaintenanceBoard(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  interface Tenant {
    session: UserSession;
    secret: string;
  }

  async function tenant(settings: Record<string, number> = {}): Promise<Tenant> {
    const session = await signUp(sut);
    if (Object.keys(settings).length > 0) {
      const response = await sut.patch('/v1/orgs/current/settings', { token: session.token, body: settings });
      expect(response.status).toBe(200);
    }
    const key = await issueKey(sut, session, { name: 'logged' });
    return { session, secret: key.secret };
  }

  /** Makes `count` checks with the tenant's key and waits until the logs list them all. */
  async function checks(who: Tenant, count: number): Promise<void> {
    for (let index = 0; index < count; index += 1) {
      const response = await sut.post('/v1/verify', { body: { key: who.secret, method: 'GET', path: '/v1/things' } });
      expect(response.status).toBe(200);
    }
    await waitUntil(async () => (await listed(who)) === count, 10_000, `${count} checks in the logs`);
  }

  /** How many rows GET /v1/logs shows the organisation. */
  async function listed(who: Tenant): Promise<number> {
    const response = await sut.get('/v1/logs', { token: who.session.token, query: { limit: '100' } });
    expect(response.status).toBe(200);
    return (response.body.data as unknown[]).length;
  }

  it('deletes the checks of an organisation with a shorter window once they are past it; others keep theirs', async () => {
    const short = await tenant({ request_log_retention_test_days: 3 });
    const plain = await tenant();
    await checks(short, 3);
    await checks(plain, 2);

    // Two days on, everything is inside both windows.
    expect(await board.run(new Date(Date.now() + 2 * DAY_MS))).toMatchObject({ orgRowsDeleted: 0 });
    expect(await listed(short)).toBe(3);

    // Four days on, the short window has passed: its checks go, the default's stay.
    const run = await board.run(new Date(Date.now() + 4 * DAY_MS));
    expect(run).toMatchObject({ windows: { test: { defaultDays: 7, longestDays: 7 } }, orgRowsDeleted: 3 });
    expect(await listed(short)).toBe(0);
    expect(await listed(plain)).toBe(2);
  });

  it('keeps the checks an organisation with a longer window needs, while organisations on the default lose theirs', async () => {
    const long = await tenant({ request_log_retention_test_days: 10 });
    const plain = await tenant();
    await checks(long, 2);
    await checks(plain, 1);

    const run = await board.run(new Date(Date.now() + 8 * DAY_MS));
    expect(run).toMatchObject({ windows: { test: { defaultDays: 7, longestDays: 10 } } });
    expect(await listed(plain)).toBe(0);
    expect(await listed(long)).toBe(2);
  });
});
