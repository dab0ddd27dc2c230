import { EntityManager, MikroORM } from '@mikro-orm/postgresql';

import { MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS, MANAGEMENT_KEY_MAX_FAILURES_PER_ADDRESS } from '@latchkey/access';
import { checksumOf, hmacSha256Hex, isWellFormedManagementKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { insertApiKey, inviteAndAccept, logIn, orgWithEveryRole, signUp, TEST_PASSWORD, UserSession } from '../../support/factories';

type Team = Awaited<ReturnType<typeof orgWithEveryRole>>;

const DAY_MS = 86_400_000;
const INSIDE = { 'x-forwarded-for': '203.0.113.5' };
const OUTSIDE = { 'x-forwarded-for': '198.51.100.7' };

describe('Management keys (org-api)', () => {
  let sut: TestApp;
  let team: Team;

  beforeAll(async () => {
    // Injected requests come from 127.0.0.1: trusting it lets a test choose the client address.
    sut = await TestApp.start({ config: { TRUST_PROXY: '127.0.0.1' } });
    team = await orgWithEveryRole(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return sut.app.get(MikroORM).em.getConnection().execute<T[]>(query, params);
  }

  async function createKey(session: UserSession, body: Record<string, unknown> = {}) {
    const response = await sut.post('/v1/management-keys', { token: session.token, body: { name: 'CI', role: 'developer', ...body } });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
    return response.body.data as Record<string, any> & { id: string; token: string };
  }

  /** The refusal every bad token gets: 401 in the error envelope, saying nothing about why. */
  function expectRefused(response: { status: number; body: any }) {
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      success: false,
      error: { code: 'UNAUTHENTICATED', message: 'Invalid, revoked or expired management key.' },
    });
  }

  describe('create, show once, list, get, revoke', () => {
    it('shows the token once, stores only its keyed hash and never lists it', async () => {
      const created = await createKey(team.owner, {
        name: 'Deploy bot',
        role: 'admin',
        environment: 'test',
        ip_allowlist: ['203.0.113.9/24'],
      });
      expect(isWellFormedManagementKey(created.token)).toBe(true);
      expect(created.token.slice(-6)).toBe(checksumOf(created.token.slice(0, -6)));
      expect(created).toMatchObject({
        name: 'Deploy bot',
        role: 'admin',
        environment: 'test',
        status: 'active',
        ip_allowlist: ['203.0.113.0/24'],
        created_by: team.owner.userId,
        last_used_at: null,
        revoked_at: null,
        masked_token: `lk_mgmt_••••••••${created.token.slice(-4)}`,
      });
      expect(created.id).toMatch(/^mgk_/);
      // Left out, the expiry is 90 days away.
      expect(Math.abs(Date.parse(created.expires_at) - (Date.now() + 90 * DAY_MS))).toBeLessThan(60_000);

      const [row] = await sql<{ token_hash: string }>('select token_hash from management_keys where id = ?', [created.id]);
      expect(row.token_hash).toBe(hmacSha256Hex(sut.config.KEY_HASH_SECRET, created.token));

      const listed = await sut.get('/v1/management-keys', { token: team.admin.token });
      expect(listed.status).toBe(200);
      expect(listed.text).not.toContain(created.token);
      expect(listed.text).not.toContain(row.token_hash);
      expect(listed.body.data.map((key: { id: string }) => key.id)).toContain(created.id);
      const read = await sut.get(`/v1/management-keys/${created.id}`, { token: team.owner.token });
      expect(read.status).toBe(200);
      expect(read.body.data.token).toBeUndefined();
      expect(read.body.data).toEqual(listed.body.data.find((key: { id: string }) => key.id === created.id));
    });

    it('pages the list with a cursor, newest first', async () => {
      const owner = await signUp(sut);
      const ids = [];
      for (let i = 0; i < 3; i += 1) ids.push((await createKey(owner, { name: `k${i}` })).id);
      const first = await sut.get('/v1/management-keys?limit=2', { token: owner.token });
      expect(first.body.data.map((key: { id: string }) => key.id)).toEqual([ids[2], ids[1]]);
      expect(first.body.has_more).toBe(true);
      const second = await sut.get(`/v1/management-keys?limit=2&cursor=${first.body.next_cursor}`, { token: owner.token });
      expect(second.body.data.map((key: { id: string }) => key.id)).toEqual([ids[0]]);
      expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    });

    it('takes expires_at: null as never, and refuses a past expiry or a bad CIDR with 400', async () => {
      expect((await createKey(team.owner, { expires_at: null })).expires_at).toBeNull();
      for (const body of [
        { expires_at: new Date(Date.now() - 1000).toISOString() },
        { ip_allowlist: ['10'] },
        { ip_allowlist: ['10.0.0.0/33'] },
        { role: 'root' },
        { environment: 'staging' },
      ]) {
        const response = await sut.post('/v1/management-keys', { token: team.owner.token, body: { name: 'x', role: 'viewer', ...body } });
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('VALIDATION_FAILED');
      }
    });

    it('revokes at once: the next use is a 401, and revoking again answers it unchanged', async () => {
      const created = await createKey(team.admin);
      expect((await sut.get('/v1/api-keys', { token: created.token })).status).toBe(200);
      const revoked = await sut.post(`/v1/management-keys/${created.id}/revoke`, { token: team.admin.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.data).toMatchObject({ status: 'revoked' });
      expectRefused(await sut.get('/v1/api-keys', { token: created.token }));
      const again = await sut.post(`/v1/management-keys/${created.id}/revoke`, { token: team.admin.token });
      expect(again.body.data.revoked_at).toBe(revoked.body.data.revoked_at);
    });

    it('answers 404 for another organisation’s key and for an id of another kind', async () => {
      const other = await signUp(sut);
      const theirs = await createKey(other);
      expect((await sut.get(`/v1/management-keys/${theirs.id}`, { token: team.owner.token })).status).toBe(404);
      expect((await sut.post(`/v1/management-keys/${theirs.id}/revoke`, { token: team.owner.token })).status).toBe(404);
      expect((await sut.get('/v1/management-keys/key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', { token: team.owner.token })).status).toBe(404);
      expect((await sut.get('/v1/api-keys', { token: theirs.token })).status).toBe(200);
    });
  });

  describe('who may manage them', () => {
    it.each([
      ['developer', 403],
      ['viewer', 403],
    ] as const)('refuses a %s session', async (role, status) => {
      const response = await sut.post('/v1/management-keys', { token: team[role].token, body: { name: 'x', role: 'viewer' } });
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      expect((await sut.get('/v1/management-keys', { token: team[role].token })).status).toBe(403);
    });

    it('lets a person hand out at most their own role', async () => {
      const tooStrong = await sut.post('/v1/management-keys', { token: team.admin.token, body: { name: 'x', role: 'owner' } });
      expect(tooStrong.status).toBe(403);
      expect(tooStrong.body.error.code).toBe('INSUFFICIENT_ROLE');
      expect((await createKey(team.admin, { role: 'admin' })).role).toBe('admin');
      const ownerKey = await createKey(team.owner, { role: 'owner' });
      const revokeByAdmin = await sut.post(`/v1/management-keys/${ownerKey.id}/revoke`, { token: team.admin.token });
      expect(revokeByAdmin.status).toBe(403);
      expect(revokeByAdmin.body.error.code).toBe('INSUFFICIENT_ROLE');
    });

    it('refuses every management-key, account and session route to a management key, even an owner one', async () => {
      const ownerKey = await createKey(team.owner, { role: 'owner' });
      const victim = await createKey(team.owner, { role: 'viewer' });
      const calls = [
        sut.post('/v1/management-keys', { token: ownerKey.token, body: { name: 'minted', role: 'viewer' } }),
        sut.get('/v1/management-keys', { token: ownerKey.token }),
        sut.get(`/v1/management-keys/${victim.id}`, { token: ownerKey.token }),
        sut.post(`/v1/management-keys/${victim.id}/revoke`, { token: ownerKey.token }),
        sut.get('/v1/auth/session', { token: ownerKey.token }),
        sut.post('/v1/auth/logout', { token: ownerKey.token }),
        sut.get('/v1/orgs', { token: ownerKey.token }),
      ];
      for (const response of await Promise.all(calls)) {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('SESSION_REQUIRED');
      }
      const [victimRow] = await sql<{ revoked_at: Date | null }>('select revoked_at from management_keys where id = ?', [victim.id]);
      expect(victimRow.revoked_at).toBeNull();
      const [{ n }] = await sql<{ n: string }>("select count(*) as n from management_keys where name = 'minted'");
      expect(Number(n)).toBe(0);
    });
  });

  describe('as Authorization: Bearer', () => {
    it('lists and creates API keys with the key’s role, attributed to the key', async () => {
      const key = await createKey(team.owner, { role: 'developer' });
      const listed = await sut.get('/v1/api-keys', { token: key.token });
      expect(listed.status).toBe(200);
      const created = await sut.post('/v1/api-keys', { token: key.token, body: { name: 'from CI', environment: 'test' } });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({ name: 'from CI', created_by: key.id });
      // A developer manages the keys it created, and only those.
      expect((await sut.post(`/v1/api-keys/${created.body.data.id}/revoke`, { token: key.token })).status).toBe(200);
      const someoneElses = await insertApiKey(sut, team.owner.orgId);
      const refused = await sut.post(`/v1/api-keys/${someoneElses.key.id}/revoke`, { token: key.token });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('INSUFFICIENT_ROLE');

      const audit = await sql<{ actor_type: string; actor_id: string }>(
        "select actor_type, actor_id from audit_logs where action = 'api_key.created' and target_id = ?",
        [created.body.data.id],
      );
      expect(audit).toEqual([{ actor_type: 'management_key', actor_id: key.id }]);
    });

    it('stops at the key’s role: a viewer key reads but cannot create', async () => {
      const viewer = await createKey(team.owner, { role: 'viewer' });
      expect((await sut.get('/v1/api-keys', { token: viewer.token })).status).toBe(200);
      const response = await sut.post('/v1/api-keys', { token: viewer.token, body: { name: 'no', environment: 'test' } });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
    });

    it('keeps a key narrowed to test to test keys', async () => {
      const owner = await signUp(sut);
      const live = await insertApiKey(sut, owner.orgId, { environment: 'live' });
      const testOnly = await createKey(owner, { role: 'admin', environment: 'test' });
      const refused = await sut.post('/v1/api-keys', { token: testOnly.token, body: { name: 'live', environment: 'live' } });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
      expect((await sut.get(`/v1/api-keys/${live.key.id}`, { token: testOnly.token })).status).toBe(404);
      expect((await sut.get(`/v1/api-keys/${live.key.id}`, { token: owner.token })).status).toBe(200);
      const listed = await sut.get('/v1/api-keys', { token: testOnly.token });
      expect(listed.body.data.map((key: { id: string }) => key.id)).not.toContain(live.key.id);
    });

    it('answers 404 for another organisation’s API key', async () => {
      const other = await signUp(sut);
      const theirs = await insertApiKey(sut, other.orgId);
      const key = await createKey(team.owner, { role: 'admin' });
      const response = await sut.get(`/v1/api-keys/${theirs.key.id}`, { token: key.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    });

    it('refuses an expired, unknown, mistyped or malformed token alike', async () => {
      const key = await createKey(team.owner);
      await sql("update management_keys set expires_at = now() - interval '1 second' where id = ?", [key.id]);
      expectRefused(await sut.get('/v1/api-keys', { token: key.token }));
      const flipped = key.token.slice(0, 20) + (key.token[20] === 'a' ? 'b' : 'a') + key.token.slice(21);
      expectRefused(await sut.get('/v1/api-keys', { token: flipped }));
      const unknownPayload = `lk_mgmt_${'A'.repeat(32)}`;
      expectRefused(await sut.get('/v1/api-keys', { token: unknownPayload + checksumOf(unknownPayload) }));
      expectRefused(await sut.get('/v1/api-keys', { token: 'lk_mgmt_short' }));
      const listed = await sut.get(`/v1/management-keys/${key.id}`, { token: team.owner.token });
      expect(listed.body.data.status).toBe('expired');
    });

    it('answers 429 with Retry-After to an address past its limit of bad tokens, whatever it sends then', async () => {
      const valid = await createKey(team.owner, { role: 'viewer' });
      const guesser = { 'x-forwarded-for': '192.0.2.44' };
      const unknown = `lk_mgmt_${'a'.repeat(32)}`;
      const guesses = [`${unknown}${checksumOf(unknown)}`, 'lk_mgmt_mistyped', `${valid.token.slice(0, -1)}x`];
      for (let attempt = 0; attempt < MANAGEMENT_KEY_MAX_FAILURES_PER_ADDRESS; attempt += 1) {
        expectRefused(await sut.get('/v1/api-keys', { token: guesses[attempt % guesses.length], headers: guesser }));
      }
      for (const token of [guesses[0], valid.token]) {
        const throttled = await sut.get('/v1/api-keys', { token, headers: guesser });
        expect(throttled.status).toBe(429);
        expect(throttled.body).toMatchObject({ success: false, error: { code: 'TOO_MANY_REQUESTS' } });
        const retryAfter = Number(throttled.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS);
      }
      // Counted per address: the same key from elsewhere, and a person's session from the same address, still work.
      expect((await sut.get('/v1/api-keys', { token: valid.token, headers: INSIDE })).status).toBe(200);
      expect((await sut.get('/v1/api-keys', { token: team.owner.token, headers: guesser })).status).toBe(200);
    });

    it('is refused from outside its IP allowlist with 403, audited once a minute', async () => {
      const key = await createKey(team.owner, { role: 'viewer', ip_allowlist: ['203.0.113.0/24', '2001:db8::/32'] });
      expect((await sut.get('/v1/api-keys', { token: key.token, headers: INSIDE })).status).toBe(200);
      for (let i = 0; i < 2; i += 1) {
        const refused = await sut.get('/v1/api-keys', { token: key.token, headers: OUTSIDE });
        expect(refused.status).toBe(403);
        expect(refused.body).toMatchObject({ success: false, error: { code: 'MANAGEMENT_KEY_IP_NOT_ALLOWED' } });
      }
      const audit = await sql<{ actor_type: string; ip: string; after: { ip: string } }>(
        "select actor_type, ip, after from audit_logs where action = 'management_key.refused_ip' and target_id = ?",
        [key.id],
      );
      expect(audit).toEqual([{ actor_type: 'management_key', ip: '198.51.100.7', after: { ip: '198.51.100.7' } }]);
    });

    it('records last_used_at at most once a minute', async () => {
      const key = await createKey(team.owner, { role: 'viewer' });
      const lastUsed = async () => {
        const [row] = await sql<{ last_used_at: string | Date | null }>('select last_used_at from management_keys where id = ?', [key.id]);
        return row.last_used_at === null ? null : new Date(row.last_used_at);
      };
      expect(await lastUsed()).toBeNull();
      await sut.get('/v1/api-keys', { token: key.token });
      const first = await lastUsed();
      expect(first).not.toBeNull();
      await sql("update management_keys set last_used_at = last_used_at - interval '30 seconds' where id = ?", [key.id]);
      const backdated = await lastUsed();
      await sut.get('/v1/api-keys', { token: key.token });
      expect(await lastUsed()).toEqual(backdated);
      await sql("update management_keys set last_used_at = last_used_at - interval '31 seconds' where id = ?", [key.id]);
      await sut.get('/v1/api-keys', { token: key.token });
      const later = await lastUsed();
      expect(later!.getTime()).toBeGreaterThan(backdated!.getTime());
      const shown = await sut.get(`/v1/management-keys/${key.id}`, { token: team.owner.token });
      expect(shown.body.data.last_used_at).toBe(later!.toISOString());
    });
  });

  describe('on the other organisation routes', () => {
    it('reads webhooks, alerts, usage, logs and the audit log with the key’s role', async () => {
      const admin = await createKey(team.owner, { role: 'admin' });
      for (const path of ['/v1/webhooks', '/v1/alerts', '/v1/usage?group_by=key', '/v1/logs', '/v1/audit-logs']) {
        const response = await sut.get(path, { token: admin.token });
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
      }
      const developer = await createKey(team.owner, { role: 'developer' });
      const refused = await sut.get('/v1/audit-logs', { token: developer.token });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('INSUFFICIENT_ROLE');
    });

    it('reads and renames the organisation with an admin key, audited with the key as actor', async () => {
      const owner = await signUp(sut);
      const admin = await createKey(owner, { role: 'admin' });
      expect((await sut.get('/v1/orgs/current', { token: admin.token })).body.data.id).toBe(owner.orgId);
      expect((await sut.get('/v1/orgs/current/settings', { token: admin.token })).status).toBe(200);
      const renamed = await sut.patch('/v1/orgs/current', { token: admin.token, body: { name: 'Renamed by CI' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.data.name).toBe('Renamed by CI');
      const audit = await sql<{ actor_type: string; actor_id: string }>(
        "select actor_type, actor_id from audit_logs where org_id = ? and action = 'org.updated'",
        [owner.orgId],
      );
      expect(audit).toEqual([{ actor_type: 'management_key', actor_id: admin.id }]);
    });

    it('refuses a key narrowed to one environment on routes that do not narrow to it', async () => {
      const testOnly = await createKey(team.owner, { role: 'admin', environment: 'test' });
      for (const path of ['/v1/webhooks', '/v1/usage?group_by=key', '/v1/audit-logs']) {
        const response = await sut.get(path, { token: testOnly.token });
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('FORBIDDEN');
      }
      expect((await sut.get('/v1/api-keys', { token: testOnly.token })).status).toBe(200);
    });
  });

  describe('on members and invitations', () => {
    /** A fresh organisation with an owner and one more member, and that member's membership id. */
    async function orgWith(role: string) {
      const owner = await signUp(sut);
      const person = await signUp(sut, { orgName: `${role}'s own org` });
      const membershipId = await inviteAndAccept(sut, owner, person, role);
      return { owner, membershipId, member: await logIn(sut, person.email, TEST_PASSWORD, owner.orgId) };
    }

    it('lists, invites, revokes, changes and removes with an admin key, audited with the key as actor', async () => {
      const { owner, membershipId } = await orgWith('developer');
      const admin = await createKey(owner, { role: 'admin' });
      const members = await sut.get('/v1/members', { token: admin.token });
      expect(members.status).toBe(200);
      expect(members.body.data).toHaveLength(2);
      const invited = await sut.post('/v1/members', { token: admin.token, body: { email: 'ci-invite@example.com', role: 'viewer' } });
      expect(invited.status).toBe(201);
      expect(invited.body.data.invited_by).toBe(admin.id);
      expect((await sut.get('/v1/invitations', { token: admin.token })).body.data.map((row: any) => row.id)).toEqual([
        invited.body.data.id,
      ]);
      expect((await sut.get('/v1/members/invitations', { token: admin.token })).status).toBe(200);
      const revoked = await sut.delete(`/v1/invitations/${invited.body.data.id}`, { token: admin.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.data.status).toBe('revoked');
      const changed = await sut.patch(`/v1/members/${membershipId}`, { token: admin.token, body: { role: 'viewer' } });
      expect(changed.status).toBe(200);
      expect(changed.body.data.role).toBe('viewer');
      expect((await sut.delete(`/v1/members/${membershipId}`, { token: admin.token })).status).toBe(200);
      const audit = await sql<{ action: string; actor_type: string; actor_id: string }>(
        "select action, actor_type, actor_id from audit_logs where org_id = ? and actor_type = 'management_key' order by id",
        [owner.orgId],
      );
      expect(audit.map((row) => [row.action, row.actor_type, row.actor_id])).toEqual([
        ['member.invited', 'management_key', admin.id],
        ['member.invitation_revoked', 'management_key', admin.id],
        ['member.role_changed', 'management_key', admin.id],
        ['member.removed', 'management_key', admin.id],
      ]);
    });

    it('holds a key to the ceilings a person of its role has', async () => {
      const { owner, membershipId } = await orgWith('developer');
      const [ownerMembership] = (await sut.get('/v1/members', { token: owner.token })).body.data.filter((row: any) => row.role === 'owner');
      const admin = await createKey(owner, { role: 'admin' });
      const refusals = [
        await sut.post('/v1/members', { token: admin.token, body: { email: 'new-owner@example.com', role: 'owner' } }),
        await sut.patch(`/v1/members/${membershipId}`, { token: admin.token, body: { role: 'owner' } }),
        await sut.patch(`/v1/members/${ownerMembership.id}`, { token: admin.token, body: { role: 'admin' } }),
        await sut.delete(`/v1/members/${ownerMembership.id}`, { token: admin.token }),
      ];
      for (const response of refusals) {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
      const developer = await createKey(owner, { role: 'developer' });
      expect((await sut.get('/v1/members', { token: developer.token })).status).toBe(200);
      for (const response of [
        await sut.post('/v1/members', { token: developer.token, body: { email: 'dev-invite@example.com', role: 'viewer' } }),
        await sut.delete(`/v1/members/${membershipId}`, { token: developer.token }),
      ]) {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
      const ownerKey = await createKey(owner, { role: 'owner' });
      const lastOwner = await sut.delete(`/v1/members/${ownerMembership.id}`, { token: ownerKey.token });
      expect(lastOwner.status).toBe(409);
      expect(lastOwner.body.error.code).toBe('LAST_OWNER');
      const [{ n }] = await sql<{ n: string }>("select count(*) as n from invitations where email = 'new-owner@example.com'");
      expect(Number(n)).toBe(0);
    });

    it('refuses a key narrowed to one environment', async () => {
      const narrowed = await createKey(team.owner, { role: 'admin', environment: 'live' });
      const response = await sut.get('/v1/members', { token: narrowed.token });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('FORBIDDEN');
    });

    it.each([
      ['removed by an owner', 'owner'],
      ['leaving', 'self'],
    ] as const)('revokes the keys a member created when they are %s, audited with the reason', async (_, by) => {
      const { owner, membershipId, member } = await orgWith('admin');
      const kept = await createKey(owner, { role: 'viewer' });
      const first = await createKey(member, { role: 'admin' });
      const second = await createKey(member, { role: 'viewer' });
      const removal = await sut.delete(`/v1/members/${membershipId}`, { token: (by === 'owner' ? owner : member).token });
      expect(removal.status).toBe(200);
      expectRefused(await sut.get('/v1/api-keys', { token: first.token }));
      expectRefused(await sut.get('/v1/api-keys', { token: second.token }));
      expect((await sut.get('/v1/api-keys', { token: kept.token })).status).toBe(200);
      const audit = await sql<{ target_id: string; actor_id: string; after: Record<string, unknown> }>(
        "select target_id, actor_id, after from audit_logs where org_id = ? and action = 'management_key.revoked'",
        [owner.orgId],
      );
      const actorId = by === 'owner' ? owner.userId : member.userId;
      expect(audit.map((row) => [row.target_id, row.actor_id, row.after.status, row.after.reason]).sort()).toEqual(
        [first.id, second.id].sort().map((id) => [id, actorId, 'revoked', 'creator_removed']),
      );
    });

    it('revokes a key removing its own creator, in the same change', async () => {
      const { owner, membershipId, member } = await orgWith('admin');
      const own = await createKey(member, { role: 'admin' });
      expect((await sut.delete(`/v1/members/${membershipId}`, { token: own.token })).status).toBe(200);
      expectRefused(await sut.get('/v1/members', { token: own.token }));
      const [row] = await sql<{ actor_type: string; actor_id: string }>(
        "select actor_type, actor_id from audit_logs where org_id = ? and action = 'management_key.revoked'",
        [owner.orgId],
      );
      expect(row).toEqual({ actor_type: 'management_key', actor_id: own.id });
    });

    it('refuses a key to a creator demoted while the create waited for the organisation lock', async () => {
      const { owner, membershipId, member } = await orgWith('admin');
      // A transaction of its own (plain knex, outside MikroORM's context, which the request would otherwise join).
      const lock = await (sut.app.get(MikroORM).em as EntityManager).getKnex().transaction();
      await lock.raw('select id from organizations where id = ? for update', [owner.orgId]);
      const pending = sut.post('/v1/management-keys', { token: member.token, body: { name: 'raced', role: 'admin' } });
      // Until the create, past the guard, is seen waiting for the lock this transaction holds.
      for (let tries = 0; ; tries += 1) {
        const [{ n }] = await sql<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        if (Number(n) > 0) break;
        if (tries > 400) {
          await lock.rollback();
          throw new Error('the create never waited for the organisation lock');
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await lock.raw("update memberships set role = 'viewer' where id = ?", [membershipId]);
      await lock.commit();
      const response = await pending;
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      const [{ n }] = await sql<{ n: string }>("select count(*) as n from management_keys where name = 'raced'");
      expect(Number(n)).toBe(0);
    });

    it('revokes only the keys above a member’s new role when it is lowered', async () => {
      const { owner, membershipId, member } = await orgWith('admin');
      const admin = await createKey(member, { role: 'admin' });
      const developer = await createKey(member, { role: 'developer' });
      const viewer = await createKey(member, { role: 'viewer' });
      const lowered = await sut.patch(`/v1/members/${membershipId}`, { token: owner.token, body: { role: 'developer' } });
      expect(lowered.status).toBe(200);
      expectRefused(await sut.get('/v1/api-keys', { token: admin.token }));
      expect((await sut.get('/v1/api-keys', { token: developer.token })).status).toBe(200);
      expect((await sut.get('/v1/api-keys', { token: viewer.token })).status).toBe(200);
      const audit = await sql<{ target_id: string; after: Record<string, unknown> }>(
        "select target_id, after from audit_logs where org_id = ? and action = 'management_key.revoked'",
        [owner.orgId],
      );
      expect(audit.map((row) => [row.target_id, row.after.reason])).toEqual([[admin.id, 'creator_role_lowered']]);
      // Raising the role again does not bring a revoked key back.
      await sut.patch(`/v1/members/${membershipId}`, { token: owner.token, body: { role: 'admin' } });
      expectRefused(await sut.get('/v1/api-keys', { token: admin.token }));
    });
  });

  it('audits creation and revocation with the person as actor', async () => {
    const key = await createKey(team.admin, { name: 'audited', role: 'viewer' });
    await sut.post(`/v1/management-keys/${key.id}/revoke`, { token: team.admin.token });
    const rows = await sql<{ action: string; actor_type: string; actor_id: string; before: unknown; after: Record<string, unknown> }>(
      'select action, actor_type, actor_id, before, after from audit_logs where target_id = ? order by id',
      [key.id],
    );
    expect(rows.map((row) => [row.action, row.actor_type, row.actor_id])).toEqual([
      ['management_key.created', 'user', team.admin.userId],
      ['management_key.revoked', 'user', team.admin.userId],
    ]);
    expect(rows[0].after).toMatchObject({ name: 'audited', role: 'viewer', status: 'active' });
    expect(rows[1].after).toMatchObject({ status: 'revoked' });
    expect(JSON.stringify(rows)).not.toContain(key.token);
  });
});
