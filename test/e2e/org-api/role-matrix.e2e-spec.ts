import { Role } from '@latchkey/contracts';

import { CallResult, TestApp } from '../../support/create-test-app';
import { inviteAndAccept, logIn, orgWithEveryRole, signUp, TEST_PASSWORD, uniqueEmail, UserSession } from '../../support/factories';

type Org = Awaited<ReturnType<typeof orgWithEveryRole>>;
type Expected = Record<Role, number>;

const ACTORS = [Role.Owner, Role.Admin, Role.Developer, Role.Viewer] as const;

const everyone = (status: number): Expected => ({ owner: status, admin: status, developer: status, viewer: status });
const adminsOnly = (status: number): Expected => ({ owner: status, admin: status, developer: 403, viewer: 403 });
const ownerOnly = (status: number): Expected => ({ owner: status, admin: 403, developer: 403, viewer: 403 });

/**
 * One case of the matrix. `arrange` prepares a fresh target (so cases never touch each
 * other's data) and may give a fresh actor; `act` is the one call under test.
 */
interface MatrixCase {
  name: string;
  expected: Expected;
  /** Reads only: nothing should change whatever the answer. */
  read?: boolean;
  arrange?: (actorRole: Role) => Promise<{ target?: string; actor?: UserSession }>;
  act: (actor: UserSession, target: string) => Promise<CallResult>;
}

describe('Role matrix of the member and invitation endpoints', () => {
  let sut: TestApp;
  let org: Org;
  /** Another tenant, with a member, a pending invitation and a user who belongs to both. */
  let other: { owner: UserSession; memberId: string; sharedMemberId: string; invitationId: string };

  beforeAll(async () => {
    // The matrix sends far more invitations from one organisation than a real one does in a quarter hour.
    sut = await TestApp.start({ config: { INVITATIONS_MAX_PER_ORG: '1000' } });
    org = await orgWithEveryRole(sut);

    const otherOwner = await signUp(sut, { orgName: 'Other tenant' });
    const otherMember = await signUp(sut);
    const memberId = await inviteAndAccept(sut, otherOwner, otherMember, 'developer');
    const sharedMemberId = await inviteAndAccept(sut, otherOwner, org.developer, 'viewer');
    const invited = await sut.post('/v1/members', {
      token: otherOwner.token,
      body: { email: uniqueEmail('other-invitee'), role: 'viewer' },
    });
    other = { owner: otherOwner, memberId, sharedMemberId, invitationId: invited.body.data.id };
    expect([other.memberId, other.sharedMemberId, other.invitationId]).toEqual([
      expect.stringMatching(/^mem_/),
      expect.stringMatching(/^mem_/),
      expect.stringMatching(/^inv_/),
    ]);
  });

  afterAll(async () => {
    await sut.close();
  });

  /** Every item of a paged list, following next_cursor to the end. */
  async function everyPage<T>(token: string, url: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const response: CallResult<{ data: T[]; next_cursor: string | null }> = await sut.get(url, {
        token,
        query: { limit: '100', ...(cursor ? { cursor } : {}) },
      });
      expect(response.status).toBe(200);
      items.push(...response.body.data);
      cursor = response.body.next_cursor;
    } while (cursor);
    return items;
  }

  /**
   * Everything a member/invitation call could change, as the organisation's owner reads
   * it: the members, the pending invitations and the newest audit row (every change
   * writes one, so a change that slipped through moves it).
   */
  async function snapshot(owner: UserSession): Promise<unknown> {
    const [members, invitations, newestAudit] = await Promise.all([
      everyPage<{ id: string; user_id: string; role: string }>(owner.token, '/v1/members'),
      everyPage<{ id: string; email: string; role: string }>(owner.token, '/v1/invitations'),
      sut.get('/v1/audit-logs', { token: owner.token, query: { limit: '1' } }),
    ]);
    expect(newestAudit.status).toBe(200);
    return {
      members: members.map((member) => `${member.id}:${member.user_id}:${member.role}`),
      invitations: invitations.map((invitation) => `${invitation.id}:${invitation.email}:${invitation.role}`),
      newestAudit: newestAudit.body.data[0]?.id ?? null,
    };
  }

  /** A new account (with its own organisation) that is also a member of the matrix org with `role`. */
  async function newMember(role: Role): Promise<{ memberId: string; session: UserSession }> {
    const person = await signUp(sut, { orgName: 'their own org' });
    const memberId = await inviteAndAccept(sut, org.owner, person, role);
    return { memberId, session: await logIn(sut, person.email, TEST_PASSWORD, org.owner.orgId) };
  }

  async function newInvitation(role: Role): Promise<string> {
    const invited = await sut.post('/v1/members', { token: org.owner.token, body: { email: uniqueEmail('invitee'), role } });
    if (invited.status !== 201) throw new Error(`inviting failed: ${invited.status} ${invited.text}`);
    return invited.body.data.id;
  }

  const existingAccount = async () => ({ target: (await signUp(sut)).email });
  const memberWith = (role: Role) => async () => ({ target: (await newMember(role)).memberId });
  /** The actor itself, freshly added with the role under test (an owner only leaves when another remains). */
  const freshActor = async (role: Role) => {
    const { memberId, session } = await newMember(role);
    return { target: memberId, actor: session };
  };

  const cases: MatrixCase[] = [
    { name: 'GET /v1/members', expected: everyone(200), read: true, act: (actor) => sut.get('/v1/members', { token: actor.token }) },
    {
      name: 'GET /v1/invitations',
      expected: adminsOnly(200),
      read: true,
      act: (actor) => sut.get('/v1/invitations', { token: actor.token }),
    },
    {
      name: 'POST /v1/members an account as developer',
      expected: adminsOnly(201),
      arrange: existingAccount,
      act: (actor, email) => sut.post('/v1/members', { token: actor.token, body: { email, role: 'developer' } }),
    },
    {
      name: 'POST /v1/members an account as owner',
      expected: ownerOnly(201),
      arrange: existingAccount,
      act: (actor, email) => sut.post('/v1/members', { token: actor.token, body: { email, role: 'owner' } }),
    },
    {
      name: 'POST /v1/members an unknown email as viewer (invitation)',
      expected: adminsOnly(201),
      arrange: async () => ({ target: uniqueEmail('unknown') }),
      act: (actor, email) => sut.post('/v1/members', { token: actor.token, body: { email, role: 'viewer' } }),
    },
    {
      name: 'POST /v1/members an unknown email as owner (invitation)',
      expected: ownerOnly(201),
      arrange: async () => ({ target: uniqueEmail('unknown') }),
      act: (actor, email) => sut.post('/v1/members', { token: actor.token, body: { email, role: 'owner' } }),
    },
    {
      name: 'PATCH /v1/members/:id a developer to viewer',
      expected: adminsOnly(200),
      arrange: memberWith(Role.Developer),
      act: (actor, id) => sut.patch(`/v1/members/${id}`, { token: actor.token, body: { role: 'viewer' } }),
    },
    {
      name: 'PATCH /v1/members/:id a viewer to admin',
      expected: adminsOnly(200),
      arrange: memberWith(Role.Viewer),
      act: (actor, id) => sut.patch(`/v1/members/${id}`, { token: actor.token, body: { role: 'admin' } }),
    },
    {
      name: 'PATCH /v1/members/:id a developer to owner',
      expected: ownerOnly(200),
      arrange: memberWith(Role.Developer),
      act: (actor, id) => sut.patch(`/v1/members/${id}`, { token: actor.token, body: { role: 'owner' } }),
    },
    {
      name: 'PATCH /v1/members/:id another owner to admin',
      expected: ownerOnly(200),
      arrange: memberWith(Role.Owner),
      act: (actor, id) => sut.patch(`/v1/members/${id}`, { token: actor.token, body: { role: 'admin' } }),
    },
    {
      name: 'PATCH /v1/members/:id own membership to viewer',
      expected: { owner: 200, admin: 200, developer: 403, viewer: 403 },
      arrange: freshActor,
      act: (actor, id) => sut.patch(`/v1/members/${id}`, { token: actor.token, body: { role: 'viewer' } }),
    },
    {
      name: 'DELETE /v1/members/:id a developer',
      expected: adminsOnly(200),
      arrange: memberWith(Role.Developer),
      act: (actor, id) => sut.delete(`/v1/members/${id}`, { token: actor.token }),
    },
    {
      name: 'DELETE /v1/members/:id an admin',
      expected: adminsOnly(200),
      arrange: memberWith(Role.Admin),
      act: (actor, id) => sut.delete(`/v1/members/${id}`, { token: actor.token }),
    },
    {
      name: 'DELETE /v1/members/:id another owner',
      expected: ownerOnly(200),
      arrange: memberWith(Role.Owner),
      act: (actor, id) => sut.delete(`/v1/members/${id}`, { token: actor.token }),
    },
    {
      name: 'DELETE /v1/members/:id own membership (leave)',
      expected: everyone(200),
      arrange: freshActor,
      act: (actor, id) => sut.delete(`/v1/members/${id}`, { token: actor.token }),
    },
    {
      name: 'DELETE /v1/invitations/:id a developer invitation',
      expected: adminsOnly(200),
      arrange: async () => ({ target: await newInvitation(Role.Developer) }),
      act: (actor, id) => sut.delete(`/v1/invitations/${id}`, { token: actor.token }),
    },
    {
      name: 'DELETE /v1/invitations/:id an owner invitation',
      expected: ownerOnly(200),
      arrange: async () => ({ target: await newInvitation(Role.Owner) }),
      act: (actor, id) => sut.delete(`/v1/invitations/${id}`, { token: actor.token }),
    },
  ];

  describe.each(cases)('$name', (matrixCase) => {
    it.each(ACTORS)('as %s', async (role) => {
      const arranged = (await matrixCase.arrange?.(role)) ?? {};
      const actor = arranged.actor ?? org[role];
      const before = await snapshot(org.owner);

      const response = await matrixCase.act(actor, arranged.target ?? '');

      const expected = matrixCase.expected[role];
      expect({ role, status: response.status }).toEqual({ role, status: expected });
      const after = await snapshot(org.owner);
      if (matrixCase.read || expected >= 400) {
        expect(after).toEqual(before);
      } else {
        expect(after).not.toEqual(before);
      }
      if (expected === 403) expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
    });
  });

  describe("another organisation's ids (tenant isolation)", () => {
    const foreignCases: { name: string; expected: Expected; act: (actor: UserSession) => Promise<CallResult> }[] = [
      {
        name: "PATCH /v1/members/:id with another org's member",
        expected: adminsOnly(404),
        act: (actor) => sut.patch(`/v1/members/${other.memberId}`, { token: actor.token, body: { role: 'viewer' } }),
      },
      {
        name: "PATCH /v1/members/:id with the other org's membership of one of our own members",
        expected: adminsOnly(404),
        act: (actor) => sut.patch(`/v1/members/${other.sharedMemberId}`, { token: actor.token, body: { role: 'owner' } }),
      },
      {
        name: "DELETE /v1/members/:id with another org's member",
        expected: everyone(404),
        act: (actor) => sut.delete(`/v1/members/${other.memberId}`, { token: actor.token }),
      },
      {
        name: "DELETE /v1/members/:id with the other org's membership of one of our own members",
        expected: everyone(404),
        act: (actor) => sut.delete(`/v1/members/${other.sharedMemberId}`, { token: actor.token }),
      },
      {
        name: "DELETE /v1/invitations/:id with another org's invitation",
        expected: adminsOnly(404),
        act: (actor) => sut.delete(`/v1/invitations/${other.invitationId}`, { token: actor.token }),
      },
      {
        name: 'DELETE /v1/invitations/:id with a membership id',
        expected: adminsOnly(404),
        act: (actor) => sut.delete(`/v1/invitations/${other.memberId}`, { token: actor.token }),
      },
      {
        name: 'PATCH /v1/members/:id with a junk id',
        expected: adminsOnly(404),
        act: (actor) => sut.patch('/v1/members/mem_nope', { token: actor.token, body: { role: 'viewer' } }),
      },
      {
        name: 'DELETE /v1/members/:id with an invitation id',
        expected: everyone(404),
        act: (actor) => sut.delete(`/v1/members/${other.invitationId}`, { token: actor.token }),
      },
      {
        name: 'DELETE /v1/invitations/:id with a junk id',
        expected: adminsOnly(404),
        act: (actor) => sut.delete(`/v1/invitations/${encodeURIComponent("inv_' or 1=1 --")}`, { token: actor.token }),
      },
    ];

    describe.each(foreignCases)('$name', (foreignCase) => {
      it.each(ACTORS)('as %s', async (role) => {
        const actor = org[role];
        const before = [await snapshot(org.owner), await snapshot(other.owner)];
        const response = await foreignCase.act(actor);
        expect({ role, status: response.status }).toEqual({ role, status: foreignCase.expected[role] });
        if (response.status === 404) expect(response.body.error.code).toBe('NOT_FOUND');
        expect([await snapshot(org.owner), await snapshot(other.owner)]).toEqual(before);
      });
    });

    it("lists none of another organisation's members or invitations", async () => {
      const members = await sut.get('/v1/members', { token: org.owner.token, query: { limit: '100' } });
      const invitations = await sut.get('/v1/invitations', { token: org.owner.token, query: { limit: '100' } });
      const ids = [...members.body.data, ...invitations.body.data].map((item: { id: string }) => item.id);
      expect(ids).not.toContain(other.memberId);
      expect(ids).not.toContain(other.sharedMemberId);
      expect(ids).not.toContain(other.invitationId);
      expect(members.body.data.every((member: { user_id: string }) => member.user_id !== other.owner.userId)).toBe(true);
    });
  });
});
