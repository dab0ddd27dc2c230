import { PageRequest, Role } from '@latchkey/contracts';
import { Alert, AlertType, AuditLog } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import { SeededMember, seedMember, seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { AlertsService } from './alerts.service';
import { AlertResponseDto } from './dto/alert-response.dto';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', SeededMember>;

/**
 * Listing and acknowledging alerts against Postgres. Alerts are raised by usage-worker's
 * anomaly rules (tested against the detector); here they are the rows it leaves, which
 * no public surface can make on demand. Who may call which route, and how the routes
 * validate their input, is in test/e2e/org-api/alerts.e2e-spec.ts.
 */
describe(AlertsService.name, () => {
  let harness: ServiceHarness;
  let service: AlertsService;
  let team: Team;
  let stranger: SeededMember;
  const keyA = newId(IdPrefix.ApiKey);
  const keyB = newId(IdPrefix.ApiKey);
  let alerts: Alert[];
  let strangersAlert: Alert;

  async function insertAlert(orgId: string, type: AlertType, keyId: string | null): Promise<Alert> {
    const em = harness.em();
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
    harness = await ServiceHarness.start({ providers: [AlertsService] });
    service = harness.get(AlertsService);
    const owner = await seedOrg(harness.em());
    team = {
      owner,
      admin: await seedMember(harness.em(), owner.orgId, Role.Admin),
      developer: await seedMember(harness.em(), owner.orgId, Role.Developer),
      viewer: await seedMember(harness.em(), owner.orgId, Role.Viewer),
    };
    stranger = await seedOrg(harness.em());
    alerts = [
      await insertAlert(team.owner.orgId, AlertType.TrafficSpike, keyA),
      await insertAlert(team.owner.orgId, AlertType.DenialBurst, keyA),
      await insertAlert(team.owner.orgId, AlertType.TrafficSpike, keyB),
      await insertAlert(team.owner.orgId, AlertType.FailedCheckBurst, null),
    ];
    strangersAlert = await insertAlert(stranger.orgId, AlertType.TrafficSpike, keyA);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** The ids of the alerts `member` lists with `filter`, as GET /v1/alerts answers them. */
  async function listed(member: SeededMember, filter: Parameters<AlertsService['list']>[1] = {}, page: PageRequest = { limit: 20 }) {
    return harness.inRequest(() => service.list(member.principal, filter, page));
  }
  const ids = (rows: { id: string }[]) => rows.map((row) => row.id);
  const ack = (member: SeededMember, id: string) => harness.inRequest(() => service.acknowledge(member.principal, id, member.actor));

  it.each(['owner', 'admin', 'developer', 'viewer'] as const)('lists the organisation’s alerts, newest first, for a %s', async (role) => {
    const page = await listed(team[role]);
    expect(ids(page.items)).toEqual(ids(alerts).reverse());
    expect(AlertResponseDto.from(page.items[0])).toEqual({
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
    expect(ids((await listed(team.viewer, { type: AlertType.TrafficSpike })).items)).toEqual([alerts[2].id, alerts[0].id]);
    expect(ids((await listed(team.viewer, { keyId: keyA })).items)).toEqual([alerts[1].id, alerts[0].id]);
    expect(ids((await listed(team.viewer, { keyId: keyA, type: AlertType.DenialBurst })).items)).toEqual([alerts[1].id]);

    const first = await listed(team.viewer, {}, { limit: 3 });
    expect(first).toMatchObject({ hasMore: true, nextCursor: alerts[1].id });
    const second = await listed(team.viewer, {}, { limit: 3, cursor: first.nextCursor ?? undefined });
    expect(ids(second.items)).toEqual([alerts[0].id]);
    expect(second).toMatchObject({ hasMore: false, nextCursor: null });
  });

  it('answers not found for another organisation’s alert and for junk ids, and leaves them alone', async () => {
    await expect(ack(team.owner, strangersAlert.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ack(team.owner, 'alr_nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ack(team.owner, newId(IdPrefix.Alert))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const theirs = await listed(stranger);
    expect(theirs.items).toEqual([expect.objectContaining({ id: strangersAlert.id, acknowledgedAt: null })]);
  });

  it('acknowledges for an owner or admin, once, audited as alert.acknowledged', async () => {
    const byAdmin = AlertResponseDto.from(await ack(team.admin, alerts[0].id));
    expect(byAdmin).toMatchObject({ id: alerts[0].id, acknowledged_by: team.admin.userId });
    expect(Date.parse(byAdmin.acknowledged_at!)).not.toBeNaN();

    const again = AlertResponseDto.from(await ack(team.owner, alerts[0].id));
    expect(again).toMatchObject({ acknowledged_by: team.admin.userId, acknowledged_at: byAdmin.acknowledged_at });

    await ack(team.owner, alerts[3].id);

    // In the organisation's audit log, and in no other organisation's.
    const audit = await harness.em().find(AuditLog, { action: 'alert.acknowledged' }, { orderBy: { id: 'desc' } });
    expect(audit.map((row) => [row.orgId, row.actorId, row.targetId])).toEqual([
      [team.owner.orgId, team.owner.userId, alerts[3].id],
      [team.owner.orgId, team.admin.userId, alerts[0].id],
    ]);
    expect(await harness.em().count(AuditLog, { orgId: stranger.orgId, action: 'alert.acknowledged' })).toBe(0);

    expect(ids((await listed(team.viewer, { acknowledged: false })).items)).toEqual([alerts[2].id, alerts[1].id]);
    expect(ids((await listed(team.viewer, { acknowledged: true })).items)).toEqual([alerts[3].id, alerts[0].id]);
  });
});
