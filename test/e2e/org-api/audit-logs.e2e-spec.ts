import { setTimeout as sleep } from 'node:timers/promises';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

interface AuditRow {
  id: string;
  org_id: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  user_agent: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  created_at: string;
}

const USER_AGENT = 'latchkey-e2e/1.0 (audit)';

describe('Audit log (org-api)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start();
  });

  afterAll(async () => {
    await sut.close();
  });

  /** Every row the caller can see, following next_cursor to the end. */
  async function allRows(token: string, query = '', limit = 100): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    let cursor: string | null = null;
    do {
      const separator = query ? '&' : '';
      const response = await sut.get(`/v1/audit-logs?${query}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(response.status).toBe(200);
      rows.push(...(response.body.data as AuditRow[]));
      cursor = response.body.next_cursor as string | null;
      expect(response.body.has_more).toBe(cursor !== null);
    } while (cursor);
    return rows;
  }

  describe('who may read it', () => {
    let team: Team;

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
    });

    it.each([
      ['owner', 200],
      ['admin', 200],
      ['developer', 403],
      ['viewer', 403],
    ] as const)('answers a %s with %i', async (role, status) => {
      const response = await sut.get('/v1/audit-logs', { token: team[role].token });
      expect(response.status).toBe(status);
      if (status === 403) expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
    });

    it('answers 401 without a session', async () => {
      expect((await sut.get('/v1/audit-logs')).status).toBe(401);
    });
  });

  describe('rows', () => {
    it('records a change with its actor, address, user agent, target and diff, without secrets', async () => {
      const owner = await signUp(sut, { orgName: 'Audited Ltd' });
      const renamed = await sut.patch('/v1/orgs/current', {
        token: owner.token,
        body: { name: 'Audited Group' },
        headers: { 'user-agent': USER_AGENT },
      });
      expect(renamed.status).toBe(200);

      const response = await sut.get('/v1/audit-logs', { token: owner.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ success: true, has_more: false, next_cursor: null });
      const rows = response.body.data as AuditRow[];
      // Newest first: the rename, then what signup recorded.
      expect(rows.map((row) => row.action)).toEqual(['org.updated', 'member.added', 'org.created']);
      expect(rows[0]).toEqual({
        id: expect.stringMatching(/^aud_[0-9A-Z]{26}$/),
        org_id: owner.orgId,
        actor: { type: 'user', id: owner.userId },
        action: 'org.updated',
        target: { type: 'org', id: owner.orgId },
        ip: '127.0.0.1',
        user_agent: USER_AGENT,
        before: { name: 'Audited Ltd' },
        after: { name: 'Audited Group' },
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      expect(rows[1]).toMatchObject({
        action: 'member.added',
        actor: { type: 'user', id: owner.userId },
        target: { type: 'user', id: owner.userId },
      });

      // Neither the password nor the session token (nor their hashes) reach any row.
      const text = JSON.stringify(rows);
      expect(text).not.toContain(owner.password);
      expect(text).not.toContain(owner.token);
      expect(text).not.toMatch(/password|token|hash|secret/i);
    });

    it('records member changes made through the members API', async () => {
      const team = await orgWithEveryRole(sut);
      const rows = await allRows(team.owner.token, 'action=member.added');
      const added = rows.map((row) => row.target?.id);
      for (const role of ['admin', 'developer', 'viewer'] as const) expect(added).toContain(team[role].userId);
      expect(rows.every((row) => row.org_id === team.owner.orgId)).toBe(true);
    });

    it('records the platform operator as the actor of an approval', async () => {
      const owner = await signUp(sut);
      await sut.post('/v1/orgs/current/live-access', { token: owner.token, headers: { 'user-agent': USER_AGENT } });
      await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, {
        token: sut.config.PLATFORM_ADMIN_TOKEN,
        headers: { 'user-agent': 'ops/2' },
      });
      const rows = await allRows(owner.token);
      expect(rows.slice(0, 2)).toEqual([
        expect.objectContaining({
          action: 'org.live_access_approved',
          actor: { type: 'platform', id: null },
          user_agent: 'ops/2',
          target: { type: 'org', id: owner.orgId },
        }),
        expect.objectContaining({ action: 'org.live_access_requested', actor: { type: 'user', id: owner.userId }, user_agent: USER_AGENT }),
      ]);
    });
  });

  describe('filters and pagination', () => {
    let team: Team;
    let middle: string;
    let everything: AuditRow[];

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
      await sut.patch('/v1/orgs/current', { token: team.owner.token, body: { name: 'First Name' } });
      await sleep(30);
      middle = new Date().toISOString();
      await sleep(30);
      await sut.patch('/v1/orgs/current', { token: team.admin.token, body: { name: 'Second Name' } });
      await sut.patch('/v1/orgs/current/settings', { token: team.admin.token, body: { rotation_policy_days: 30 } });
      everything = await allRows(team.owner.token);
    });

    it('lists newest first', () => {
      const ids = everything.map((row) => row.id);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(everything[0].action).toBe('org.settings_updated');
      // signup (2) + three members invited, accepting and added (9) + two renames + one settings change
      expect(everything).toHaveLength(14);
    });

    it('pages through every row exactly once', async () => {
      const paged = await allRows(team.owner.token, '', 3);
      expect(paged.map((row) => row.id)).toEqual(everything.map((row) => row.id));
      const first = await sut.get('/v1/audit-logs?limit=3', { token: team.owner.token });
      expect(first.body.data).toHaveLength(3);
      expect(first.body.has_more).toBe(true);
      expect(first.body.next_cursor).toBe(first.body.data[2].id);
    });

    it('defaults to 20 rows a page', async () => {
      const owner = await signUp(sut);
      for (let index = 0; index < 21; index += 1) {
        await sut.patch('/v1/orgs/current', { token: owner.token, body: { name: `Name ${index}` } });
      }
      const response = await sut.get('/v1/audit-logs', { token: owner.token });
      expect(response.body.data).toHaveLength(20);
      expect(response.body.has_more).toBe(true);
    });

    it('filters by action', async () => {
      const rows = await allRows(team.owner.token, 'action=org.updated');
      expect(rows.map((row) => row.after)).toEqual([{ name: 'Second Name' }, { name: 'First Name' }]);
    });

    it('filters by actor', async () => {
      const rows = await allRows(team.owner.token, `actor_id=${team.admin.userId}`);
      // The admin's own acceptance of its invitation is its act too.
      expect(rows.map((row) => row.action)).toEqual(['org.settings_updated', 'org.updated', 'member.added', 'member.invitation_accepted']);
      expect(rows.every((row) => row.actor.id === team.admin.userId)).toBe(true);
    });

    it('filters by target', async () => {
      const rows = await allRows(team.owner.token, `target_id=${team.viewer.userId}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action: 'member.added',
        target: { type: 'user', id: team.viewer.userId },
        after: { role: 'viewer' },
      });
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const later = await allRows(team.owner.token, `from=${middle}`);
      expect(later.map((row) => row.action)).toEqual(['org.settings_updated', 'org.updated']);
      const earlier = await allRows(team.owner.token, `to=${middle}`);
      expect(earlier.map((row) => row.id)).toEqual(everything.slice(2).map((row) => row.id));

      const newest = everything[0];
      expect((await allRows(team.owner.token, `from=${newest.created_at}`)).map((row) => row.id)).toEqual([newest.id]);
      expect((await allRows(team.owner.token, `to=${newest.created_at}`)).map((row) => row.id)).not.toContain(newest.id);
      expect(await allRows(team.owner.token, `from=${middle}&to=${middle}`)).toEqual([]);
      // A zone offset and a bare date are ISO-8601 too.
      expect(await allRows(team.owner.token, 'from=2000-01-01&to=2000-01-02T00:00:00%2B02:00')).toEqual([]);
    });

    it('combines filters', async () => {
      const rows = await allRows(team.owner.token, `action=org.updated&actor_id=${team.admin.userId}&from=${middle}`);
      expect(rows.map((row) => row.after)).toEqual([{ name: 'Second Name' }]);
      expect(await allRows(team.owner.token, `action=org.updated&actor_id=${team.viewer.userId}`)).toEqual([]);
    });

    it.each([
      ['from', 'from=yesterday'],
      ['from', 'from=2026-13-01'],
      ['from', 'from=2026-02-30T00:00:00Z'],
      ['to', 'to=2026-01-01T10:00:00'],
      ['to', 'to=1700000000'],
      ['from', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
      ['action', 'action=DROP%20TABLE'],
      ['actor_id', 'actor_id=42'],
      ['target_id', "target_id=org_'--"],
      ['limit', 'limit=0'],
      ['limit', 'limit=101'],
      ['limit', 'limit=ten'],
      ['cursor', 'cursor=not-a-cursor'],
      ['org_id', `org_id=org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I`],
    ])('refuses a bad %s with 400 (%s)', async (field, query) => {
      const response = await sut.get(`/v1/audit-logs?${query}`, { token: team.owner.token });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details.map((detail: { field: string }) => detail.field)).toContain(field);
    });
  });

  describe('tenant isolation', () => {
    it('never shows another organisation’s rows, whatever the filters', async () => {
      const team = await orgWithEveryRole(sut);
      const outsider = await signUp(sut, { orgName: 'Outsider Ltd' });
      await sut.patch('/v1/orgs/current', { token: team.owner.token, body: { name: 'Secret Project' } });

      const own = await allRows(outsider.token);
      expect(own.map((row) => row.action)).toEqual(['member.added', 'org.created']);
      expect(own.every((row) => row.org_id === outsider.orgId)).toBe(true);
      expect(await allRows(outsider.token, `target_id=${team.owner.orgId}`)).toEqual([]);
      expect(await allRows(outsider.token, `actor_id=${team.owner.userId}`)).toEqual([]);
      expect(await allRows(outsider.token, 'action=org.updated')).toEqual([]);

      // A cursor taken from another organisation's list still only pages the caller's rows.
      const theirs = await allRows(team.owner.token);
      const fromTheirCursor = await allRows(outsider.token, `cursor=${theirs[0].id}`);
      expect(fromTheirCursor.every((row) => row.org_id === outsider.orgId)).toBe(true);

      // A member of both sees each organisation's log only from a session in it.
      const adminOwnOrg = await allRows(team.admin.token);
      expect(adminOwnOrg.every((row) => row.org_id === team.owner.orgId)).toBe(true);
    });
  });
});
