import { EntityManager } from '@mikro-orm/postgresql';

import { Alert, AlertType } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

describe('Alerts (org-api)', () => {
  let sut: TestApp;
  let team: Team;
  let stranger: UserSession;
  const keyA = newId(IdPrefix.ApiKey);
  const keyB = newId(IdPrefix.ApiKey);
  let alerts: Alert[];
  let strangersAlert: Alert;

  /**
   * Alerts are raised by usage-worker's anomaly rules (tested against the detector);
   * here they are the rows it leaves, so the routes have something to list.
   */
  async function insertAlert(orgId: string, type: AlertType, keyId: string | null): Promise<Alert> {
    const em = sut.app.get(EntityManager).fork();
    const alert = em.create(Alert, {
      orgId,
      keyId,
      environment: keyId ? 'live' : null,
      type,
      severity: 'warning',
      episodeKey: `${keyId ?? 'ip'}:${newId(IdPrefix.Alert)}`,
      details: { checks: 500 },
    });
    await em.flush();
    return alert;
  }

  beforeAll(async () => {
    sut = await TestApp.start();
    team = await orgWithEveryRole(sut);
    stranger = await signUp(sut);
    alerts = [
      await insertAlert(team.owner.orgId, AlertType.TrafficSpike, keyA),
      await insertAlert(team.owner.orgId, AlertType.DenialBurst, keyA),
      await insertAlert(team.owner.orgId, AlertType.TrafficSpike, keyB),
      await insertAlert(team.owner.orgId, AlertType.FailedCheckBurst, null),
    ];
    strangersAlert = await insertAlert(stranger.orgId, AlertType.TrafficSpike, keyA);
  });

  afterAll(async () => {
    await sut.close();
  });

  it.each(['owner', 'admin', 'developer', 'viewer'] as const)('lists the organisation’s alerts, newest first, for a %s', async (role) => {
    const response = await sut.get('/v1/alerts', { token: team[role].token });
    expect(response.status).toBe(200);
    expect(response.body.data.map((alert: { id: string }) => alert.id)).toEqual(alerts.map((alert) => alert.id).reverse());
    expect(response.body.data[0]).toEqual({
      id: alerts[3].id,
      org_id: team.owner.orgId,
      key_id: null,
      environment: null,
      type: 'failed_check_burst',
      severity: 'warning',
      details: { checks: 500 },
      created_at: alerts[3].createdAt.toISOString(),
      acknowledged_at: null,
      acknowledged_by: null,
    });
  });

  it('filters by type and key, and pages with a cursor', async () => {
    const byType = await sut.get('/v1/alerts?type=traffic_spike', { token: team.viewer.token });
    expect(byType.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[2].id, alerts[0].id]);
    const byKey = await sut.get(`/v1/alerts?key_id=${keyA}`, { token: team.viewer.token });
    expect(byKey.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[1].id, alerts[0].id]);
    const both = await sut.get(`/v1/alerts?key_id=${keyA}&type=denial_burst`, { token: team.viewer.token });
    expect(both.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[1].id]);

    const first = await sut.get('/v1/alerts?limit=3', { token: team.viewer.token });
    expect(first.body).toMatchObject({ has_more: true, next_cursor: alerts[1].id });
    const second = await sut.get(`/v1/alerts?limit=3&cursor=${first.body.next_cursor}`, { token: team.viewer.token });
    expect(second.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[0].id]);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  it.each([['type=nonsense'], ['key_id=usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'], ['acknowledged=maybe'], ['limit=0']])(
    'refuses ?%s with 400',
    async (query) => {
      const response = await sut.get(`/v1/alerts?${query}`, { token: team.owner.token });
      expect(response.status).toBe(400);
    },
  );

  it.each(['developer', 'viewer'] as const)('refuses acknowledgement by a %s (403)', async (role) => {
    const response = await sut.post(`/v1/alerts/${alerts[0].id}/ack`, { token: team[role].token });
    expect(response.status).toBe(403);
  });

  it('answers 404 for another organisation’s alert and for junk ids, and leaves them alone', async () => {
    expect((await sut.post(`/v1/alerts/${strangersAlert.id}/ack`, { token: team.owner.token })).status).toBe(404);
    expect((await sut.post('/v1/alerts/alr_nope/ack', { token: team.owner.token })).status).toBe(404);
    expect((await sut.post(`/v1/alerts/${newId(IdPrefix.Alert)}/ack`, { token: team.owner.token })).status).toBe(404);
    const theirs = await sut.get('/v1/alerts', { token: stranger.token });
    expect(theirs.body.data).toEqual([expect.objectContaining({ id: strangersAlert.id, acknowledged_at: null })]);
  });

  it('acknowledges for an owner or admin, once, audited as alert.acknowledged', async () => {
    const byAdmin = await sut.post(`/v1/alerts/${alerts[0].id}/ack`, { token: team.admin.token });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.data).toMatchObject({ id: alerts[0].id, acknowledged_by: team.admin.userId });
    expect(Date.parse(byAdmin.body.data.acknowledged_at)).not.toBeNaN();

    const again = await sut.post(`/v1/alerts/${alerts[0].id}/ack`, { token: team.owner.token });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ acknowledged_by: team.admin.userId, acknowledged_at: byAdmin.body.data.acknowledged_at });

    const byOwner = await sut.post(`/v1/alerts/${alerts[3].id}/ack`, { token: team.owner.token });
    expect(byOwner.status).toBe(200);

    // In the organisation's audit log (newest first), and in no other organisation's.
    const audit = await sut.get('/v1/audit-logs', { token: team.owner.token, query: { action: 'alert.acknowledged' } });
    expect(audit.status).toBe(200);
    type AuditRow = { org_id: string; actor: { id: string }; target: { id: string } };
    expect(audit.body.data.map((row: AuditRow) => [row.org_id, row.actor.id, row.target.id])).toEqual([
      [team.owner.orgId, team.owner.userId, alerts[3].id],
      [team.owner.orgId, team.admin.userId, alerts[0].id],
    ]);
    const elsewhere = await sut.get('/v1/audit-logs', { token: stranger.token, query: { action: 'alert.acknowledged' } });
    expect(elsewhere.body.data).toEqual([]);

    const open = await sut.get('/v1/alerts?acknowledged=false', { token: team.viewer.token });
    expect(open.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[2].id, alerts[1].id]);
    const done = await sut.get('/v1/alerts?acknowledged=true', { token: team.viewer.token });
    expect(done.body.data.map((alert: { id: string }) => alert.id)).toEqual([alerts[3].id, alerts[0].id]);
  });

  it('requires a session', async () => {
    expect((await sut.get('/v1/alerts')).status).toBe(401);
    expect((await sut.post(`/v1/alerts/${alerts[1].id}/ack`)).status).toBe(401);
  });
});
