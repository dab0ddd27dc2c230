import { EventType } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';

import { TestApp } from '../../support/create-test-app';
import { webhookEventErrors } from '../../support/event-samples';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { HookReceiver } from '../../support/webhook-fixtures';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

const DEFAULT_SETTINGS = {
  rotation_policy_days: 90,
  default_expiry_days: null,
  allowed_expiry_presets: [30, 60, 90],
  request_log_retention_test_days: null,
  request_log_retention_live_days: null,
  reminder_emails_enabled: true,
};
/** The settings not under test in a case, as a new organisation has them. */
const RETENTION_DEFAULTS = { request_log_retention_test_days: null, request_log_retention_live_days: null, reminder_emails_enabled: true };

describe('Organisations (org-api)', () => {
  let sut: TestApp;
  let platformToken: string;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    platformToken = sut.config.PLATFORM_ADMIN_TOKEN;
    hooks = await HookReceiver.start();
  });

  afterAll(async () => {
    await sut.close();
    await hooks?.close();
  });

  /** A subscriber's endpoint: what the outbox relays reaches it as webhooks. */
  let hooks: HookReceiver;

  interface AuditEntry {
    action: string;
    actor: { type: string; id: string | null };
    target: { type: string; id: string } | null;
    user_agent: string | null;
    before: unknown;
    after: unknown;
  }

  /** The audit log of `session`'s organisation, oldest first, as its owner reads it (GET /v1/audit-logs, every page). */
  async function auditLog(session: UserSession): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await sut.get('/v1/audit-logs', { token: session.token, query: { limit: '100', ...(cursor && { cursor }) } });
      if (page.status !== 200) throw new Error(`audit log: ${page.status} ${page.text}`);
      entries.push(...(page.body.data as AuditEntry[]));
      cursor = page.body.next_cursor;
    } while (cursor);
    return entries.reverse();
  }

  /** Audit actions recorded for an organisation, oldest first. */
  async function auditActions(session: UserSession): Promise<string[]> {
    return (await auditLog(session)).map((entry) => entry.action);
  }

  describe('GET /v1/orgs', () => {
    let team: Team;

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
    });

    it.each(['owner', 'admin', 'developer', 'viewer'] as const)('lists the organisations of a %s with their role in each', async (role) => {
      const response = await sut.get('/v1/orgs', { token: team[role].token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ success: true, has_more: false, next_cursor: null });
      const shared = response.body.data.find((org: { id: string }) => org.id === team.owner.orgId);
      expect(shared).toMatchObject({
        id: team.owner.orgId,
        name: 'Test Org',
        role,
        current: true,
        live_access: 'not_requested',
        settings: DEFAULT_SETTINGS,
      });
      if (role === 'owner') {
        expect(response.body.data).toHaveLength(1);
      } else {
        // Every other member signed up with an organisation of their own, which they own.
        expect(response.body.data).toHaveLength(2);
        const own = response.body.data.find((org: { id: string }) => org.id !== team.owner.orgId);
        expect(own).toMatchObject({ name: `${role}'s own org`, role: 'owner', current: false });
      }
    });

    it('pages with limit and cursor, newest membership first', async () => {
      const first = await sut.get('/v1/orgs?limit=1', { token: team.admin.token });
      expect(first.status).toBe(200);
      expect(first.body.data).toHaveLength(1);
      expect(first.body.has_more).toBe(true);
      expect(first.body.data[0].id).toBe(team.owner.orgId);
      const second = await sut.get(`/v1/orgs?limit=1&cursor=${first.body.next_cursor}`, { token: team.admin.token });
      expect(second.status).toBe(200);
      expect(second.body.data).toHaveLength(1);
      expect(second.body.data[0].role).toBe('owner');
      expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    });

    it('refuses bad paging parameters and a missing session', async () => {
      expect((await sut.get('/v1/orgs?limit=0', { token: team.owner.token })).status).toBe(400);
      expect((await sut.get('/v1/orgs?limit=101', { token: team.owner.token })).status).toBe(400);
      expect((await sut.get('/v1/orgs?cursor=nope', { token: team.owner.token })).status).toBe(400);
      expect((await sut.get('/v1/orgs?role=owner', { token: team.owner.token })).status).toBe(400);
      expect((await sut.get('/v1/orgs')).status).toBe(401);
    });
  });

  describe('GET /v1/orgs/current', () => {
    let team: Team;

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
    });

    it.each(['owner', 'admin', 'developer', 'viewer'] as const)('answers a %s with the session’s organisation', async (role) => {
      const response = await sut.get('/v1/orgs/current', { token: team[role].token });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({
        id: team.owner.orgId,
        name: 'Test Org',
        live_access: 'not_requested',
        live_access_requested_at: null,
        live_access_approved_at: null,
        settings: DEFAULT_SETTINGS,
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
    });

    it('answers 401 without a session', async () => {
      expect((await sut.get('/v1/orgs/current')).status).toBe(401);
      expect((await sut.get('/v1/orgs/current', { token: 'lks_forged' })).status).toBe(401);
    });
  });

  describe('PATCH /v1/orgs/current', () => {
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
      const before = (await sut.get('/v1/orgs/current', { token: team.owner.token })).body.data;
      const auditBefore = await auditActions(team.owner);
      const response = await sut.patch('/v1/orgs/current', { token: team[role].token, body: { name: `  Renamed by ${role}  ` } });
      expect(response.status).toBe(status);
      const after = (await sut.get('/v1/orgs/current', { token: team.owner.token })).body.data;
      if (status === 200) {
        expect(response.body.data).toMatchObject({ id: team.owner.orgId, name: `Renamed by ${role}` });
        expect(after.name).toBe(`Renamed by ${role}`);
        expect(await auditActions(team.owner)).toEqual([...auditBefore, 'org.updated']);
      } else {
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
        expect(after).toEqual(before);
        expect(await auditActions(team.owner)).toEqual(auditBefore);
      }
    });

    it('records the rename with before and after', async () => {
      const owner = await signUp(sut, { orgName: 'Before Ltd' });
      await sut.patch('/v1/orgs/current', { token: owner.token, body: { name: 'After Ltd' } });
      const rows = (await auditLog(owner))
        .filter((entry) => entry.action === 'org.updated')
        .map((entry) => ({
          actor_type: entry.actor.type,
          actor_id: entry.actor.id,
          target_type: entry.target?.type ?? null,
          target_id: entry.target?.id ?? null,
          before: entry.before,
          after: entry.after,
        }));
      expect(rows).toEqual([
        {
          actor_type: 'user',
          actor_id: owner.userId,
          target_type: 'org',
          target_id: owner.orgId,
          before: { name: 'Before Ltd' },
          after: { name: 'After Ltd' },
        },
      ]);
    });

    it('records nothing when the name does not change', async () => {
      const owner = await signUp(sut, { orgName: 'Same Ltd' });
      const response = await sut.patch('/v1/orgs/current', { token: owner.token, body: { name: 'Same Ltd' } });
      expect(response.status).toBe(200);
      expect(await auditActions(owner)).not.toContain('org.updated');
    });

    it.each([
      ['an empty name', { name: '' }],
      ['a blank name', { name: '   ' }],
      ['a name over 100 characters', { name: 'x'.repeat(101) }],
      ['a number', { name: 42 }],
      ['null', { name: null }],
      ['no name', {}],
      ['an unknown field', { name: 'Fine', live_access: 'approved' }],
    ])('refuses %s with 400 and changes nothing', async (_, body) => {
      const response = await sut.patch('/v1/orgs/current', { token: team.owner.token, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      const current = await sut.get('/v1/orgs/current', { token: team.owner.token });
      expect(current.body.data.live_access).toBe('not_requested');
      expect(current.body.data.name).not.toBe('Fine');
    });

    it('answers 401 without a session', async () => {
      expect((await sut.patch('/v1/orgs/current', { body: { name: 'Nope' } })).status).toBe(401);
    });
  });

  describe('GET /v1/orgs/current/settings', () => {
    let team: Team;

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
    });

    it.each(['owner', 'admin', 'developer', 'viewer'] as const)('answers a %s with the defaults', async (role) => {
      const response = await sut.get('/v1/orgs/current/settings', { token: team[role].token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true, data: DEFAULT_SETTINGS });
    });

    it('answers 401 without a session', async () => {
      expect((await sut.get('/v1/orgs/current/settings')).status).toBe(401);
    });
  });

  describe('PATCH /v1/orgs/current/settings', () => {
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
      const before = (await sut.get('/v1/orgs/current/settings', { token: team.owner.token })).body.data;
      const rotation = { owner: 30, admin: 45, developer: 1, viewer: 2 }[role];
      const response = await sut.patch('/v1/orgs/current/settings', { token: team[role].token, body: { rotation_policy_days: rotation } });
      expect(response.status).toBe(status);
      const after = (await sut.get('/v1/orgs/current/settings', { token: team.owner.token })).body.data;
      if (status === 200) {
        expect(response.body.data).toEqual({ ...before, rotation_policy_days: rotation });
        expect(after).toEqual({ ...before, rotation_policy_days: rotation });
      } else {
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
        expect(after).toEqual(before);
      }
    });

    it('changes only the fields sent, sorts the presets and audits before and after', async () => {
      const owner = await signUp(sut);
      const first = await sut.patch('/v1/orgs/current/settings', {
        token: owner.token,
        body: { default_expiry_days: 60, allowed_expiry_presets: [365, 7, 30] },
      });
      expect(first.status).toBe(200);
      expect(first.body.data).toEqual({
        rotation_policy_days: 90,
        default_expiry_days: 60,
        allowed_expiry_presets: [7, 30, 365],
        ...RETENTION_DEFAULTS,
      });

      // null is a value ("never expires"), not "leave it as it is".
      const second = await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { default_expiry_days: null } });
      expect(second.status).toBe(200);
      expect(second.body.data).toEqual({
        rotation_policy_days: 90,
        default_expiry_days: null,
        allowed_expiry_presets: [7, 30, 365],
        ...RETENTION_DEFAULTS,
      });

      const rows = (await auditLog(owner))
        .filter((entry) => entry.action === 'org.settings_updated')
        .map((entry) => ({ before: entry.before, after: entry.after }));
      expect(rows).toEqual([
        {
          before: DEFAULT_SETTINGS,
          after: { rotation_policy_days: 90, default_expiry_days: 60, allowed_expiry_presets: [7, 30, 365], ...RETENTION_DEFAULTS },
        },
        {
          before: { rotation_policy_days: 90, default_expiry_days: 60, allowed_expiry_presets: [7, 30, 365], ...RETENTION_DEFAULTS },
          after: { rotation_policy_days: 90, default_expiry_days: null, allowed_expiry_presets: [7, 30, 365], ...RETENTION_DEFAULTS },
        },
      ]);
    });

    it('accepts the bounds 1 and 3650 and ten presets', async () => {
      const owner = await signUp(sut);
      const presets = [1, 2, 3, 4, 5, 6, 7, 8, 9, 3650];
      const response = await sut.patch('/v1/orgs/current/settings', {
        token: owner.token,
        body: { rotation_policy_days: 3650, default_expiry_days: 1, allowed_expiry_presets: presets },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({
        rotation_policy_days: 3650,
        default_expiry_days: 1,
        allowed_expiry_presets: presets,
        ...RETENTION_DEFAULTS,
      });
    });

    it('sets request-log retention per environment from 1 to 400 days, and null goes back to the default', async () => {
      const owner = await signUp(sut);
      const set = await sut.patch('/v1/orgs/current/settings', {
        token: owner.token,
        body: { request_log_retention_test_days: 1, request_log_retention_live_days: 400 },
      });
      expect(set.status).toBe(200);
      expect(set.body.data).toEqual({ ...DEFAULT_SETTINGS, request_log_retention_test_days: 1, request_log_retention_live_days: 400 });

      const reset = await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { request_log_retention_test_days: null } });
      expect(reset.body.data).toEqual({ ...DEFAULT_SETTINGS, request_log_retention_live_days: 400 });
      expect((await sut.get('/v1/orgs/current', { token: owner.token })).body.data.settings).toEqual(reset.body.data);
    });

    it('turns reminder mails off and on again, audited, other settings untouched', async () => {
      const owner = await signUp(sut);
      const off = await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { reminder_emails_enabled: false } });
      expect(off.status).toBe(200);
      expect(off.body.data).toEqual({ ...DEFAULT_SETTINGS, reminder_emails_enabled: false });
      expect((await sut.get('/v1/orgs/current/settings', { token: owner.token })).body.data).toEqual(off.body.data);

      const on = await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { reminder_emails_enabled: true } });
      expect(on.body.data).toEqual(DEFAULT_SETTINGS);
      // The same value again changes nothing, so nothing is audited (jsonb's key order must not count as a change).
      const again = await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { reminder_emails_enabled: true } });
      expect(again.status).toBe(200);
      expect((await auditActions(owner)).filter((action) => action === 'org.settings_updated')).toHaveLength(2);
    });

    it.each([
      ['rotation_policy_days 0', { rotation_policy_days: 0 }, 'rotation_policy_days'],
      ['rotation_policy_days 3651', { rotation_policy_days: 3651 }, 'rotation_policy_days'],
      ['rotation_policy_days 1.5', { rotation_policy_days: 1.5 }, 'rotation_policy_days'],
      ['rotation_policy_days as a string', { rotation_policy_days: '90' }, 'rotation_policy_days'],
      ['rotation_policy_days null', { rotation_policy_days: null }, 'rotation_policy_days'],
      ['presets null', { allowed_expiry_presets: null }, 'allowed_expiry_presets'],
      ['default_expiry_days 0', { default_expiry_days: 0 }, 'default_expiry_days'],
      ['default_expiry_days 3651', { default_expiry_days: 3651 }, 'default_expiry_days'],
      ['default_expiry_days as a string', { default_expiry_days: 'never' }, 'default_expiry_days'],
      ['no presets', { allowed_expiry_presets: [] }, 'allowed_expiry_presets'],
      ['eleven presets', { allowed_expiry_presets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, 'allowed_expiry_presets'],
      ['repeated presets', { allowed_expiry_presets: [30, 30] }, 'allowed_expiry_presets'],
      ['a preset of 0', { allowed_expiry_presets: [0, 30] }, 'allowed_expiry_presets'],
      ['a preset of 3651', { allowed_expiry_presets: [3651] }, 'allowed_expiry_presets'],
      ['a fractional preset', { allowed_expiry_presets: [7.5] }, 'allowed_expiry_presets'],
      ['string presets', { allowed_expiry_presets: ['30'] }, 'allowed_expiry_presets'],
      ['presets that are not a list', { allowed_expiry_presets: 30 }, 'allowed_expiry_presets'],
      ['test log retention 0', { request_log_retention_test_days: 0 }, 'request_log_retention_test_days'],
      ['live log retention 401', { request_log_retention_live_days: 401 }, 'request_log_retention_live_days'],
      ['live log retention 2.5', { request_log_retention_live_days: 2.5 }, 'request_log_retention_live_days'],
      ['test log retention as a string', { request_log_retention_test_days: '30' }, 'request_log_retention_test_days'],
      ['log retention as an object', { request_log_retention_live_days: { days: 30 } }, 'request_log_retention_live_days'],
      ['reminder_emails_enabled as a string', { reminder_emails_enabled: 'false' }, 'reminder_emails_enabled'],
      ['reminder_emails_enabled as a number', { reminder_emails_enabled: 0 }, 'reminder_emails_enabled'],
      ['reminder_emails_enabled null', { reminder_emails_enabled: null }, 'reminder_emails_enabled'],
      ['an unknown field', { rotation_policy_days: 30, rotation: 30 }, 'rotation'],
      ['an empty body', {}, null],
    ])('refuses %s with 400 and changes nothing', async (_, body, field) => {
      const before = (await sut.get('/v1/orgs/current/settings', { token: team.owner.token })).body.data;
      const response = await sut.patch('/v1/orgs/current/settings', { token: team.owner.token, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      if (field) expect(response.body.error.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect((await sut.get('/v1/orgs/current/settings', { token: team.owner.token })).body.data).toEqual(before);
    });
  });

  describe('live access: request and approval', () => {
    it.each(['developer', 'viewer'] as const)('refuses a %s with 403 and changes nothing', async (role) => {
      const team = await orgWithEveryRole(sut);
      const response = await sut.post('/v1/orgs/current/live-access', { token: team[role].token });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      const org = await sut.get('/v1/orgs/current', { token: team.owner.token });
      expect(org.body.data).toMatchObject({ live_access: 'not_requested', live_access_requested_at: null });
      expect(await auditActions(team.owner)).not.toContain('org.live_access_requested');
    });

    it.each(['owner', 'admin'] as const)('lets an %s request it, once', async (role) => {
      const team = await orgWithEveryRole(sut);
      const first = await sut.post('/v1/orgs/current/live-access', { token: team[role].token });
      expect(first.status).toBe(200);
      expect(first.body.data).toMatchObject({
        id: team.owner.orgId,
        live_access: 'requested',
        live_access_requested_at: expect.any(String),
        live_access_approved_at: null,
      });

      // Asking again while pending is the same answer, not a second request.
      const again = await sut.post('/v1/orgs/current/live-access', { token: team.owner.token });
      expect(again.status).toBe(200);
      expect(again.body.data).toEqual(first.body.data);
      expect((await auditActions(team.owner)).filter((action) => action === 'org.live_access_requested')).toHaveLength(1);
    });

    it('goes from request to the operator’s queue to approval; then live access cannot be requested again', async () => {
      const owner = await signUp(sut, { orgName: 'Going Live Ltd' });
      const subscribed = await sut.post('/v1/webhooks', {
        token: owner.token,
        body: { url: hooks.url(`/${owner.orgId}`), events: ['org.live_access_approved'], environment: 'test' },
      });
      expect(subscribed.status).toBe(201);
      const bystander = await signUp(sut, { orgName: 'Not Asking Ltd' });
      await sut.post('/v1/orgs/current/live-access', { token: owner.token });

      const queue = await sut.get('/v1/platform/orgs?live_access=requested&limit=100', { token: platformToken });
      expect(queue.status).toBe(200);
      const queued = queue.body.data.map((org: { id: string }) => org.id);
      expect(queued).toContain(owner.orgId);
      expect(queued).not.toContain(bystander.orgId);
      expect(queue.body.data.every((org: { live_access: string }) => org.live_access === 'requested')).toBe(true);

      const approved = await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, {
        token: platformToken,
        headers: { 'user-agent': 'ops-console/1.0' },
      });
      expect(approved.status).toBe(200);
      expect(approved.body.data).toMatchObject({ id: owner.orgId, live_access: 'approved', live_access_approved_at: expect.any(String) });
      expect((await sut.get('/v1/orgs/current', { token: owner.token })).body.data.live_access).toBe('approved');
      const delivered = () =>
        hooks.requests
          .filter((request) => request.path === `/${owner.orgId}`)
          .map((request) => JSON.parse(request.body) as { type: EventType; org_id: string });
      await waitUntil(() => delivered().length > 0, 10_000, 'the org.live_access_approved webhook');
      const events = delivered();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'org.live_access_approved', org_id: owner.orgId });
      // As subscribers get it, and as the OpenAPI document's WebhookEvent.org.live_access_approved says.
      expect(webhookEventErrors(events[0])).toEqual([]);

      const rows = (await auditLog(owner))
        .filter((entry) => entry.action === 'org.live_access_approved')
        .map((entry) => ({
          actor_type: entry.actor.type,
          actor_id: entry.actor.id,
          target_id: entry.target?.id ?? null,
          user_agent: entry.user_agent,
          before: entry.before,
          after: entry.after,
        }));
      expect(rows).toEqual([
        {
          actor_type: 'platform',
          actor_id: null,
          target_id: owner.orgId,
          user_agent: 'ops-console/1.0',
          before: { live_access: 'requested' },
          after: { live_access: 'approved' },
        },
      ]);

      // Approving twice answers the approved state and records nothing new.
      const twice = await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, { token: platformToken });
      expect(twice.status).toBe(200);
      expect(twice.body.data).toEqual(approved.body.data);
      expect((await auditActions(owner)).filter((action) => action === 'org.live_access_approved')).toHaveLength(1);

      const late = await sut.post('/v1/orgs/current/live-access', { token: owner.token });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('LIVE_ACCESS_ALREADY_APPROVED');

      const afterwards = await sut.get('/v1/platform/orgs?live_access=requested&limit=100', { token: platformToken });
      expect(afterwards.body.data.map((org: { id: string }) => org.id)).not.toContain(owner.orgId);
    });

    it('refuses to approve an organisation that never asked (409) and leaves it as it was', async () => {
      const owner = await signUp(sut);
      const response = await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, { token: platformToken });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('LIVE_ACCESS_NOT_REQUESTED');
      expect((await sut.get('/v1/orgs/current', { token: owner.token })).body.data.live_access).toBe('not_requested');
    });

    it.each([
      ['a junk id', 'not-an-id'],
      ['an id of another kind', newId(IdPrefix.User)],
      ['an unknown organisation id', newId(IdPrefix.Organization)],
    ])('answers 404 for %s', async (_, id) => {
      const response = await sut.post(`/v1/platform/orgs/${id}/approve-live`, { token: platformToken });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    });

    it('answers 401 to the operator routes without the platform token, even with a member’s session', async () => {
      const owner = await signUp(sut);
      await sut.post('/v1/orgs/current/live-access', { token: owner.token });
      const attempts = [
        {},
        { token: 'wrong-platform-token-of-enough-length' },
        { token: `${platformToken}x` },
        { token: owner.token },
        { headers: { authorization: platformToken } },
      ];
      for (const options of attempts) {
        const approve = await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, options);
        expect(approve.status).toBe(401);
        expect(approve.body.error.code).toBe('UNAUTHENTICATED');
        expect((await sut.get('/v1/platform/orgs', options)).status).toBe(401);
      }
      expect((await sut.get('/v1/orgs/current', { token: owner.token })).body.data.live_access).toBe('requested');
    });

    it('validates the operator list’s query', async () => {
      expect((await sut.get('/v1/platform/orgs?live_access=maybe', { token: platformToken })).status).toBe(400);
      expect((await sut.get('/v1/platform/orgs?limit=0', { token: platformToken })).status).toBe(400);
      const page = await sut.get('/v1/platform/orgs?limit=2', { token: platformToken });
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(2);
      expect(page.body.has_more).toBe(true);
      const next = await sut.get(`/v1/platform/orgs?limit=2&cursor=${page.body.next_cursor}`, { token: platformToken });
      expect(next.status).toBe(200);
      expect(next.body.data[0].id < page.body.data[1].id).toBe(true);
    });
  });

  describe('tenant isolation', () => {
    it('keeps every organisation route inside the session’s organisation', async () => {
      const team = await orgWithEveryRole(sut);
      const outsider = await signUp(sut, { orgName: 'Outsider Ltd' });

      const current = await sut.get('/v1/orgs/current', { token: outsider.token });
      expect(current.body.data.id).toBe(outsider.orgId);
      const list = await sut.get('/v1/orgs', { token: outsider.token });
      expect(list.body.data.map((org: { id: string }) => org.id)).toEqual([outsider.orgId]);

      await sut.patch('/v1/orgs/current', { token: outsider.token, body: { name: 'Outsider Renamed' } });
      await sut.patch('/v1/orgs/current/settings', { token: outsider.token, body: { rotation_policy_days: 7 } });
      await sut.post('/v1/orgs/current/live-access', { token: outsider.token });

      const theirs = await sut.get('/v1/orgs/current', { token: team.owner.token });
      expect(theirs.body.data).toMatchObject({ name: 'Test Org', live_access: 'not_requested', settings: DEFAULT_SETTINGS });
      expect(await auditActions(team.owner)).not.toEqual(expect.arrayContaining(['org.updated']));
    });

    it('cannot switch a session into an organisation the user does not belong to', async () => {
      const team = await orgWithEveryRole(sut);
      const outsider = await signUp(sut);
      const response = await sut.post('/v1/auth/switch-org', { token: outsider.token, body: { org_id: team.owner.orgId } });
      expect(response.status).toBe(404);
      expect((await sut.get('/v1/orgs/current', { token: outsider.token })).body.data.id).toBe(outsider.orgId);
    });
  });
});
