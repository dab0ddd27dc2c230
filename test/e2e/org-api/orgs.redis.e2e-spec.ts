import { MemberRoleReply, OrganizationReply, OrgsPattern } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';
import { RedisRpcCaller } from '@latchkey/redis-rpc';

import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, signUp, UserSession } from '../../support/factories';
import { rpcCall, rpcCaller } from '../../support/rpc-caller';

/** Long enough for a loaded machine, short enough that a hang fails the test rather than the suite. */
const REPLY_WITHIN_MS = 5_000;

describe('org-api over the Redis transport (orgs.get, orgs.member_role)', () => {
  let sut: TestApp;
  let client: RedisRpcCaller;

  beforeAll(async () => {
    sut = await TestApp.start();
    // A separate client, as another service would build it from the same configuration.
    client = rpcCaller(sut.config);
  });

  afterAll(async () => {
    await client.close();
    await sut.close();
  });

  function send<T>(pattern: string, payload: unknown): Promise<T> {
    return rpcCall<T>(client, pattern, payload, REPLY_WITHIN_MS);
  }

  /** The error a call ends with (failing the test if it answers instead). */
  async function errorOf(pattern: string, payload: unknown): Promise<{ code: string; message: string; details?: { field?: string }[] }> {
    try {
      const reply = await send(pattern, payload);
      throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
    } catch (error) {
      return error as { code: string; message: string };
    }
  }

  describe(OrgsPattern.GetOrganization, () => {
    it('answers with the organisation', async () => {
      const owner = await signUp(sut, { orgName: 'Wire Ltd' });
      await sut.patch('/v1/orgs/current/settings', { token: owner.token, body: { rotation_policy_days: 30 } });
      const reply = await send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: owner.orgId });
      expect(reply).toEqual({
        id: owner.orgId,
        name: 'Wire Ltd',
        live_access: 'not_requested',
        settings: {
          rotation_policy_days: 30,
          default_expiry_days: null,
          allowed_expiry_presets: [30, 60, 90],
          request_log_retention_test_days: null,
          request_log_retention_live_days: null,
          reminder_emails_enabled: true,
        },
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
    });

    it('reflects live access as it changes', async () => {
      const owner = await signUp(sut);
      await sut.post('/v1/orgs/current/live-access', { token: owner.token });
      expect((await send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: owner.orgId })).live_access).toBe('requested');
      await sut.post(`/v1/platform/orgs/${owner.orgId}/approve-live`, { token: sut.config.PLATFORM_ADMIN_TOKEN });
      expect((await send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: owner.orgId })).live_access).toBe('approved');
    });

    it('answers NOT_FOUND for an unknown organisation', async () => {
      const error = await errorOf(OrgsPattern.GetOrganization, { org_id: newId(IdPrefix.Organization) });
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
    });

    it.each([
      ['no org_id', {}],
      ['a junk org_id', { org_id: 'org_nope' }],
      ['another kind of id', { org_id: newId(IdPrefix.User) }],
      ['a number', { org_id: 42 }],
      ['an unknown field', { org_id: newId(IdPrefix.Organization), include: 'members' }],
      ['a string payload', 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'],
    ])('answers VALIDATION_FAILED for %s', async (_, payload) => {
      const error = await errorOf(OrgsPattern.GetOrganization, payload);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
    });

    it('names the bad field in the details', async () => {
      const error = await errorOf(OrgsPattern.GetOrganization, { org_id: 'x', extra: 1 });
      expect(error.details?.map((detail) => detail.field).sort()).toEqual(['extra', 'org_id']);
    });
  });

  describe(OrgsPattern.GetMemberRole, () => {
    let team: Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

    beforeAll(async () => {
      team = await orgWithEveryRole(sut);
    });

    it.each(['owner', 'admin', 'developer', 'viewer'] as const)('answers the role of a %s', async (role) => {
      const reply = await send<MemberRoleReply>(OrgsPattern.GetMemberRole, { org_id: team.owner.orgId, user_id: team[role].userId });
      expect(reply).toEqual({ org_id: team.owner.orgId, user_id: team[role].userId, role });
    });

    it('answers role null for a user who is not a member, or not a user at all', async () => {
      const outsider = await signUp(sut);
      for (const userId of [outsider.userId, newId(IdPrefix.User)]) {
        const reply = await send<MemberRoleReply>(OrgsPattern.GetMemberRole, { org_id: team.owner.orgId, user_id: userId });
        expect(reply).toEqual({ org_id: team.owner.orgId, user_id: userId, role: null });
      }
    });

    it('follows role changes', async () => {
      const members = await sut.get('/v1/members?limit=100', { token: team.owner.token });
      const membership = members.body.data.find((member: { user_id: string }) => member.user_id === team.viewer.userId);
      expect(membership).toBeDefined();
      const changed = await sut.patch(`/v1/members/${membership.id}`, { token: team.owner.token, body: { role: 'developer' } });
      expect(changed.status).toBe(200);
      const reply = await send<MemberRoleReply>(OrgsPattern.GetMemberRole, { org_id: team.owner.orgId, user_id: team.viewer.userId });
      expect(reply.role).toBe('developer');
    });

    it('answers NOT_FOUND for an unknown organisation', async () => {
      const error = await errorOf(OrgsPattern.GetMemberRole, { org_id: newId(IdPrefix.Organization), user_id: team.owner.userId });
      expect(error.code).toBe('NOT_FOUND');
    });

    it.each([
      ['no user_id', () => ({ org_id: team.owner.orgId })],
      ['a junk user_id', () => ({ org_id: team.owner.orgId, user_id: 'usr_1' })],
      ['ids swapped', () => ({ org_id: team.owner.userId, user_id: team.owner.orgId })],
      ['an unknown field', () => ({ org_id: team.owner.orgId, user_id: team.owner.userId, role: 'owner' })],
    ])('answers VALIDATION_FAILED for %s', async (_, payload) => {
      const error = await errorOf(OrgsPattern.GetMemberRole, payload());
      expect(error.code).toBe('VALIDATION_FAILED');
    });
  });

  it('answers many concurrent calls, each with its own reply', async () => {
    const owners = await Promise.all([signUp(sut, { orgName: 'A' }), signUp(sut, { orgName: 'B' }), signUp(sut, { orgName: 'C' })]);
    const calls = Array.from({ length: 30 }, (_, index) => owners[index % 3]);
    const replies = await Promise.all(calls.map((owner) => send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: owner.orgId })));
    expect(replies.map((reply) => reply.id)).toEqual(calls.map((owner) => owner.orgId));
  });
});
