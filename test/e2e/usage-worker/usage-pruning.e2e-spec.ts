import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { issueKey } from '../auth-check/auth-check-helpers';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * What a client sees of the usage worker's pruning (minute counters kept 7 days, hour
 * counters 90, day counters for good): the usage endpoint refuses minutes older than
 * they are kept and still answers hours and days of that time. What the maintenance
 * job deletes, over rows dated in the past, is
 * apps/usage-worker/src/usage-events/usage-pruning.int-spec.ts.
 */
describe('usage-worker: pruning old usage rows, as the usage endpoint shows it', () => {
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start();
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  const usage = (keyId: string, granularity: string, from: Date, to: Date) =>
    sut.get(`/v1/api-keys/${keyId}/usage`, { token: owner.token, query: { granularity, from: from.toISOString(), to: to.toISOString() } });

  it('refuses minute counts older than the 7 days they are kept, and answers hours and days of that time', async () => {
    const key = await issueKey(sut, owner, { name: 'pruned minutes' });
    const eightDaysAgo = new Date(Math.floor((Date.now() - 8 * DAY_MS) / DAY_MS) * DAY_MS);

    const minutes = await usage(key.id, 'minute', eightDaysAgo, new Date(eightDaysAgo.getTime() + HOUR_MS));
    expect(minutes.status).toBe(400);
    expect(minutes.body.error.code).toBe('VALIDATION_FAILED');
    expect(minutes.body.error.message).toContain('minute counts are kept 7 days');

    const hours = await usage(key.id, 'hour', eightDaysAgo, new Date(eightDaysAgo.getTime() + DAY_MS));
    expect(hours.status).toBe(200);
    expect(hours.body.data.granularity).toBe('hour');
    const days = await usage(key.id, 'day', eightDaysAgo, new Date(eightDaysAgo.getTime() + 2 * DAY_MS));
    expect(days.status).toBe(200);
    expect(days.body.data.granularity).toBe('day');
  });
});
