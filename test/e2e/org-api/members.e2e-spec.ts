import { Role } from '@latchkey/contracts';

import { CallResult, TestApp } from '../../support/create-test-app';
import { inviteAndAccept, logIn, orgWithEveryRole, signUp, TEST_PASSWORD, uniqueEmail, UserSession } from '../../support/factories';
import { mailbox, tokenFromMail } from '../../support/mailbox';

interface MemberItem {
  id: string;
  user_id: string;
  email: string;
  role: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Members and invitations', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start();
  });

  afterAll(async () => {
    await sut.close();
  });

  /** Every member of the caller's organisation, following the cursor. */
  async function allMembers(token: string): Promise<MemberItem[]> {
    const members: MemberItem[] = [];
    let cursor: string | null = null;
    do {
      const response: CallResult<{ data: MemberItem[]; next_cursor: string | null }> = await sut.get('/v1/members', {
        token,
        query: { limit: '100', ...(cursor ? { cursor } : {}) },
      });
      expect(response.status).toBe(200);
      members.push(...response.body.data);
      cursor = response.body.next_cursor;
    } while (cursor);
    return members;
  }

  async function membershipId(token: string, userId: string): Promise<string> {
    const member = (await allMembers(token)).find((candidate) => candidate.user_id === userId);
    if (!member) throw new Error(`${userId} is not a member`);
    return member.id;
  }

  /** A new account (owner of its own organisation) added to `owner`'s organisation with `role`, signed in there. */
  async function addedMember(owner: UserSession, role: Role): Promise<UserSession & { memberId: string; ownOrgId: string }> {
    const person = await signUp(sut, { orgName: 'their own org' });
    const memberId = await inviteAndAccept(sut, owner, person, role);
    const session = await logIn(sut, person.email, TEST_PASSWORD, owner.orgId);
    return { ...session, memberId, ownOrgId: person.orgId };
  }

  /** The role of `userId` in the organisation of `token`, as its members see it (null: not a member). */
  async function roleOf(token: string, userId: string): Promise<string | null> {
    return (await allMembers(token)).find((member) => member.user_id === userId)?.role ?? null;
  }

  describe('GET /v1/members', () => {
    it('lists every member with its user, newest first, a page at a time', async () => {
      const org = await orgWithEveryRole(sut);
      const first = await sut.get('/v1/members', { token: org.viewer.token, query: { limit: '3' } });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ success: true, has_more: true, next_cursor: expect.stringMatching(/^mem_/) });
      expect(first.body.data).toHaveLength(3);
      const second = await sut.get('/v1/members', { token: org.viewer.token, query: { limit: '3', cursor: first.body.next_cursor } });
      expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
      const items = [...first.body.data, ...second.body.data];
      expect(items.map((item) => item.role)).toEqual(['viewer', 'developer', 'admin', 'owner']);
      expect(items[3]).toEqual({
        id: expect.stringMatching(/^mem_[0-9A-Z]{26}$/),
        user_id: org.owner.userId,
        email: org.owner.email,
        name: 'Test User',
        role: 'owner',
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
    });
  });

  describe('POST /v1/members', () => {
    it('invites an account like any address, matching its email case- and space-insensitively; accepting makes the member', async () => {
      const owner = await signUp(sut);
      const person = await signUp(sut, { orgName: 'elsewhere', name: 'Grace Hopper' });
      const mails = mailbox(sut);
      const response = await sut.post('/v1/members', {
        token: owner.token,
        body: { email: `  ${person.email.toUpperCase()} `, role: 'developer' },
      });
      expect(response.status).toBe(201);
      expect(response.body.data).toMatchObject({ id: expect.stringMatching(/^inv_/), email: person.email, status: 'invited' });
      expect(await roleOf(owner.token, person.userId)).toBeNull();

      const token = tokenFromMail(mails, person.email, '/console/invitations/accept');
      const accepted = await sut.post('/v1/invitations/accept', { token: person.token, body: { token } });
      expect(accepted.status).toBe(201);
      expect(accepted.body.data).toEqual({
        id: expect.stringMatching(/^mem_/),
        user_id: person.userId,
        email: person.email,
        name: 'Grace Hopper',
        role: 'developer',
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
      const session = await logIn(sut, person.email, TEST_PASSWORD, owner.orgId);
      expect(session.role).toBe('developer');
      expect(await roleOf(owner.token, person.userId)).toBe('developer');
    });

    it('answers 409 ALREADY_MEMBER for a member', async () => {
      const owner = await signUp(sut);
      const member = await addedMember(owner, Role.Viewer);
      const again = await sut.post('/v1/members', { token: owner.token, body: { email: member.email, role: 'admin' } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('ALREADY_MEMBER');
      expect(await roleOf(owner.token, member.userId)).toBe('viewer');
      const self = await sut.post('/v1/members', { token: owner.token, body: { email: owner.email, role: 'viewer' } });
      expect(self.body.error.code).toBe('ALREADY_MEMBER');
    });

    it('invites an unknown email (stored lower-cased) and refuses a second invitation', async () => {
      const owner = await signUp(sut);
      const email = uniqueEmail('invitee');
      const response = await sut.post('/v1/members', { token: owner.token, body: { email: ` ${email.toUpperCase()}`, role: 'developer' } });
      expect(response.status).toBe(201);
      expect(response.body.data).toEqual({
        id: expect.stringMatching(/^inv_[0-9A-Z]{26}$/),
        email,
        role: 'developer',
        org_id: owner.orgId,
        status: 'invited',
        invited_by: owner.userId,
        expires_at: expect.stringMatching(ISO),
        created_at: expect.stringMatching(ISO),
      });
      const listed = await sut.get('/v1/invitations', { token: owner.token });
      expect(listed.body).toMatchObject({ success: true, data: [response.body.data], has_more: false, next_cursor: null });

      const again = await sut.post('/v1/members', { token: owner.token, body: { email, role: 'viewer' } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('ALREADY_INVITED');
      expect((await sut.get('/v1/invitations', { token: owner.token })).body.data).toHaveLength(1);
    });

    it('joins nobody at signup or login: an invitation waits for its acceptance', async () => {
      const owner = await signUp(sut);
      const email = uniqueEmail('newcomer');
      expect((await sut.post('/v1/members', { token: owner.token, body: { email, role: 'admin' } })).status).toBe(201);

      const newcomer = await signUp(sut, { email, orgName: 'newcomer org' });
      await logIn(sut, email);
      expect(await roleOf(owner.token, newcomer.userId)).toBeNull();
      expect((await sut.get('/v1/invitations', { token: owner.token })).body.data).toHaveLength(1);
    });

    it('lets two simultaneous adds of one email make one member and one 409', async () => {
      const owner = await signUp(sut);
      const person = await signUp(sut);
      const email = uniqueEmail('race');
      const [a, b, c, d] = await Promise.all([
        sut.post('/v1/members', { token: owner.token, body: { email: person.email, role: 'viewer' } }),
        sut.post('/v1/members', { token: owner.token, body: { email: person.email, role: 'admin' } }),
        sut.post('/v1/members', { token: owner.token, body: { email, role: 'viewer' } }),
        sut.post('/v1/members', { token: owner.token, body: { email, role: 'admin' } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expect([c.status, d.status].sort()).toEqual([201, 409]);
      expect((await sut.get('/v1/invitations', { token: owner.token })).body.data).toHaveLength(2);
    });
  });

  describe('PATCH /v1/members/:id', () => {
    it("changes a role, and it takes effect on the member's session at once", async () => {
      const org = await orgWithEveryRole(sut);
      const developerId = await membershipId(org.owner.token, org.developer.userId);
      expect((await sut.get('/v1/invitations', { token: org.developer.token })).status).toBe(403);

      const response = await sut.patch(`/v1/members/${developerId}`, { token: org.admin.token, body: { role: 'admin' } });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({ id: developerId, user_id: org.developer.userId, role: 'admin' });
      expect((await sut.get('/v1/auth/session', { token: org.developer.token })).body.data.role).toBe('admin');
      expect((await sut.get('/v1/invitations', { token: org.developer.token })).status).toBe(200);
    });
  });

  describe('owner rules', () => {
    it('lets only an owner add, promote to, demote or remove an owner', async () => {
      const org = await orgWithEveryRole(sut);
      const asAdmin = { token: org.admin.token };
      const developerId = await membershipId(org.owner.token, org.developer.userId);
      const ownerId = await membershipId(org.owner.token, org.owner.userId);
      const account = await signUp(sut);

      const refused = [
        await sut.post('/v1/members', { ...asAdmin, body: { email: uniqueEmail('would-be-owner'), role: 'owner' } }),
        await sut.post('/v1/members', { ...asAdmin, body: { email: account.email, role: 'owner' } }),
        await sut.patch(`/v1/members/${developerId}`, { ...asAdmin, body: { role: 'owner' } }),
        await sut.patch(`/v1/members/${ownerId}`, { ...asAdmin, body: { role: 'admin' } }),
        await sut.delete(`/v1/members/${ownerId}`, asAdmin),
      ];
      for (const response of refused) {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
      expect((await allMembers(org.owner.token)).map((member) => member.role).sort()).toEqual(['admin', 'developer', 'owner', 'viewer']);
      expect((await sut.get('/v1/invitations', asAdmin)).body.data).toEqual([]);

      const promoted = await sut.patch(`/v1/members/${developerId}`, { token: org.owner.token, body: { role: 'owner' } });
      expect(promoted.status).toBe(200);
      expect(promoted.body.data.role).toBe('owner');
      // The new owner may now demote the first one.
      const demoted = await sut.patch(`/v1/members/${ownerId}`, { token: org.developer.token, body: { role: 'viewer' } });
      expect(demoted.status).toBe(200);
      expect(await roleOf(org.owner.token, org.owner.userId)).toBe('viewer');
    });

    it('lets only an owner revoke an invitation to be an owner', async () => {
      const org = await orgWithEveryRole(sut);
      const invited = await sut.post('/v1/members', { token: org.owner.token, body: { email: uniqueEmail('owner-to-be'), role: 'owner' } });
      const byAdmin = await sut.delete(`/v1/invitations/${invited.body.data.id}`, { token: org.admin.token });
      expect(byAdmin.status).toBe(403);
      expect((await sut.get('/v1/invitations', { token: org.owner.token })).body.data).toHaveLength(1);
      expect((await sut.delete(`/v1/invitations/${invited.body.data.id}`, { token: org.owner.token })).status).toBe(200);
    });
  });

  describe('last-owner rules', () => {
    it('keeps the only owner from being demoted, removed or leaving', async () => {
      const owner = await signUp(sut);
      const ownerId = await membershipId(owner.token, owner.userId);
      const demote = await sut.patch(`/v1/members/${ownerId}`, { token: owner.token, body: { role: 'admin' } });
      const leave = await sut.delete(`/v1/members/${ownerId}`, { token: owner.token });
      for (const response of [demote, leave]) {
        expect(response.status).toBe(409);
        expect(response.body.error.code).toBe('LAST_OWNER');
      }
      expect(await roleOf(owner.token, owner.userId)).toBe('owner');
      expect((await sut.get('/v1/auth/session', { token: owner.token })).status).toBe(200);
      // Keeping the role is not a demotion.
      expect((await sut.patch(`/v1/members/${ownerId}`, { token: owner.token, body: { role: 'owner' } })).status).toBe(200);
    });

    it('lets one of two owners leave, then keeps the other', async () => {
      const first = await signUp(sut);
      const second = await addedMember(first, Role.Owner);
      const firstId = await membershipId(first.token, first.userId);
      expect((await sut.delete(`/v1/members/${firstId}`, { token: first.token })).status).toBe(200);
      const leave = await sut.delete(`/v1/members/${second.memberId}`, { token: second.token });
      expect(leave.status).toBe(409);
      expect(leave.body.error.code).toBe('LAST_OWNER');
      const demote = await sut.patch(`/v1/members/${second.memberId}`, { token: second.token, body: { role: 'viewer' } });
      expect(demote.body.error.code).toBe('LAST_OWNER');
    });

    it('never lets two owners acting at once leave the organisation ownerless', async () => {
      const first = await signUp(sut);
      const second = await addedMember(first, Role.Owner);
      const firstId = await membershipId(first.token, first.userId);
      const [a, b] = await Promise.all([
        sut.patch(`/v1/members/${second.memberId}`, { token: first.token, body: { role: 'admin' } }),
        sut.patch(`/v1/members/${firstId}`, { token: second.token, body: { role: 'admin' } }),
      ]);
      // The second change runs after the first, by a caller who is no longer an owner.
      expect([a.status, b.status].sort()).toEqual([200, 403]);
      const [c, d] = await Promise.all([
        sut.delete(`/v1/members/${firstId}`, { token: first.token }),
        sut.delete(`/v1/members/${second.memberId}`, { token: second.token }),
      ]);
      expect([c.status, d.status].sort()).toEqual([200, 409]);
      // Whoever was refused is still there, and is the one owner left.
      const stayed = c.status === 409 ? first : second;
      expect((await allMembers(stayed.token)).filter((member) => member.role === 'owner').map((member) => member.user_id)).toEqual([
        stayed.userId,
      ]);
    });
  });

  describe('DELETE /v1/members/:id', () => {
    it('lets any member leave, and their session stops working at once', async () => {
      const org = await orgWithEveryRole(sut);
      for (const role of ['viewer', 'developer', 'admin'] as const) {
        const member = org[role];
        const id = await membershipId(member.token, member.userId);
        const response = await sut.delete(`/v1/members/${id}`, { token: member.token });
        expect(response.status).toBe(200);
        expect(response.body.data).toMatchObject({ id, user_id: member.userId, role });
        const after = await sut.get('/v1/members', { token: member.token });
        expect(after.status).toBe(401);
        expect(after.body.error.code).toBe('UNAUTHENTICATED');
      }
      expect((await allMembers(org.owner.token)).map((member) => member.user_id)).toEqual([org.owner.userId]);
    });

    it("ends a removed member's sessions in that organisation only, and for good", async () => {
      const owner = await signUp(sut);
      const member = await addedMember(owner, Role.Developer);
      const ownOrgSession = await logIn(sut, member.email, TEST_PASSWORD, member.ownOrgId);
      expect((await sut.get('/v1/members', { token: member.token })).status).toBe(200);

      const removed = await sut.delete(`/v1/members/${member.memberId}`, { token: owner.token });
      expect(removed.status).toBe(200);
      expect((await sut.get('/v1/members', { token: member.token })).status).toBe(401);
      expect((await sut.post('/v1/auth/switch-org', { token: member.token, body: { org_id: ownOrgSession.orgId } })).status).toBe(401);
      // Their session in their own organisation is untouched.
      expect((await sut.get('/v1/auth/session', { token: ownOrgSession.token })).status).toBe(200);
      // Nor can they log in to the organisation they left.
      const login = await sut.post('/v1/auth/login', { body: { email: member.email, password: TEST_PASSWORD, org_id: owner.orgId } });
      expect(login.status).toBe(404);

      // Added back, the old token stays dead: it was revoked, not merely orphaned.
      await inviteAndAccept(sut, owner, ownOrgSession, 'developer');
      expect((await sut.get('/v1/members', { token: member.token })).status).toBe(401);
      expect((await logIn(sut, member.email, TEST_PASSWORD, owner.orgId)).role).toBe('developer');
    });
  });

  describe('invitations', () => {
    it('lists pending invitations a page at a time, to owners and admins', async () => {
      const org = await orgWithEveryRole(sut);
      const emails = [uniqueEmail('a'), uniqueEmail('b'), uniqueEmail('c')];
      for (const email of emails) {
        expect((await sut.post('/v1/members', { token: org.admin.token, body: { email, role: 'viewer' } })).status).toBe(201);
      }
      const first = await sut.get('/v1/invitations', { token: org.admin.token, query: { limit: '2' } });
      expect(first.body).toMatchObject({ has_more: true, next_cursor: expect.stringMatching(/^inv_/) });
      const second = await sut.get('/v1/invitations', { token: org.admin.token, query: { limit: '2', cursor: first.body.next_cursor } });
      expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
      expect([...first.body.data, ...second.body.data].map((invitation) => invitation.email)).toEqual([...emails].reverse());
      expect(first.body.data[0]).toMatchObject({ status: 'invited', invited_by: org.admin.userId, role: 'viewer' });
    });

    it('revokes an invitation, and the email no longer joins on signup', async () => {
      const owner = await signUp(sut);
      const email = uniqueEmail('revoked');
      const invited = await sut.post('/v1/members', { token: owner.token, body: { email, role: 'developer' } });
      const revoked = await sut.delete(`/v1/invitations/${invited.body.data.id}`, { token: owner.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.data).toEqual({ ...invited.body.data, status: 'revoked' });
      expect((await sut.get('/v1/invitations', { token: owner.token })).body.data).toEqual([]);
      const again = await sut.delete(`/v1/invitations/${invited.body.data.id}`, { token: owner.token });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('INVITATION_CLOSED');

      const person = await signUp(sut, { email });
      expect(await roleOf(owner.token, person.userId)).toBeNull();
    });
  });

  describe('validation', () => {
    it.each([
      ['a bad email', { email: 'not-an-email', role: 'viewer' }, ['email']],
      ['a non-string email', { email: 42, role: 'viewer' }, ['email']],
      ['an unknown role', { email: 'x@example.com', role: 'superuser' }, ['role']],
      ['an unknown field', { email: 'x@example.com', role: 'viewer', is_admin: true }, ['is_admin']],
      ['missing fields', {}, ['email', 'role']],
    ])('answers POST /v1/members with %s with 400 VALIDATION_FAILED and creates nothing', async (_, body, fields) => {
      const owner = await signUp(sut);
      const response = await sut.post('/v1/members', { token: owner.token, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details.map((detail: { field: string }) => detail.field).sort()).toEqual(fields);
      expect((await sut.get('/v1/invitations', { token: owner.token })).body.data).toEqual([]);
      expect(await allMembers(owner.token)).toHaveLength(1);
    });

    it.each([
      ['an unknown role', { role: 'root' }, ['role']],
      ['an unknown field', { role: 'viewer', user_id: 'usr_x' }, ['user_id']],
      ['no role', {}, ['role']],
    ])('answers PATCH /v1/members/:id with %s with 400 VALIDATION_FAILED and changes nothing', async (_, body, fields) => {
      const owner = await signUp(sut);
      const member = await addedMember(owner, Role.Developer);
      const response = await sut.patch(`/v1/members/${member.memberId}`, { token: owner.token, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details.map((detail: { field: string }) => detail.field).sort()).toEqual(fields);
      expect(await roleOf(owner.token, member.userId)).toBe('developer');
    });

    it.each([['/v1/members'], ['/v1/invitations']])('answers bad paging on %s with 400 VALIDATION_FAILED', async (url) => {
      const owner = await signUp(sut);
      const queries: Record<string, string>[] = [{ limit: '0' }, { limit: '101' }, { limit: 'ten' }, { cursor: 'junk' }, { sort: 'email' }];
      for (const query of queries) {
        const response = await sut.get(url, { token: owner.token, query });
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('VALIDATION_FAILED');
      }
    });
  });
});
