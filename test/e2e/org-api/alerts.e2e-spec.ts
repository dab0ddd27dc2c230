import { IdPrefix, newId } from '@latchkey/ids';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, UserSession } from '../../support/factories';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

/**
 * The alert routes as a client sees them: who may call them, how they validate their
 * input. Alerts are raised by usage-worker's anomaly rules (tested against the
 * detector), which no public surface triggers on demand; listing, filtering, paging
 * and acknowledging stored alerts is in apps/org-api/src/alerts/alerts.service.int-spec.ts.
 */
describe('Alerts (org-api)', () => {
  let sut: TestApp;
  let team: Team;

  beforeAll(async () => {
    sut = await TestApp.start();
    team = await orgWithEveryRole(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  it.each(['owner', 'admin', 'developer', 'viewer'] as const)('lets a %s list the organisation’s alerts', async (role) => {
    const response = await sut.get('/v1/alerts', { token: team[role].token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ data: [], has_more: false, next_cursor: null });
  });

  it.each([['type=nonsense'], ['key_id=usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'], ['acknowledged=maybe'], ['limit=0']])(
    'refuses ?%s with 400',
    async (query) => {
      const response = await sut.get(`/v1/alerts?${query}`, { token: team.owner.token });
      expect(response.status).toBe(400);
    },
  );

  it.each(['developer', 'viewer'] as const)('refuses acknowledgement by a %s (403)', async (role) => {
    const response = await sut.post(`/v1/alerts/${newId(IdPrefix.Alert)}/ack`, { token: team[role].token });
    expect(response.status).toBe(403);
  });

  it('answers 404 to an owner or admin for junk ids and alerts that do not exist', async () => {
    expect((await sut.post('/v1/alerts/alr_nope/ack', { token: team.owner.token })).status).toBe(404);
    expect((await sut.post(`/v1/alerts/${newId(IdPrefix.Alert)}/ack`, { token: team.admin.token })).status).toBe(404);
  });

  it('requires a session', async () => {
    expect((await sut.get('/v1/alerts')).status).toBe(401);
    expect((await sut.post(`/v1/alerts/${newId(IdPrefix.Alert)}/ack`)).status).toBe(401);
  });
});
