import { TestApp } from '../../support/create-test-app';
import { orgWithEveryRole, UserSession } from '../../support/factories';

type Team = Record<'owner' | 'admin' | 'developer' | 'viewer', UserSession>;

/**
 * Reminder mails (seed 004 expiration alerts) as an organisation controls them: the
 * `reminder_emails_enabled` setting. Who is mailed, once each across worker copies,
 * retried when SMTP refuses, and skipped when things changed before the send, is
 * tested from the reminder run to the mail in
 * apps/usage-worker/src/reminder-mail/reminder-mails.int-spec.ts: the run is the
 * worker's five-minute job, which no public surface starts.
 */
describe('usage-worker: reminder mails (seed 004 expiration alerts)', () => {
  let sut: TestApp;
  let team: Team;

  beforeAll(async () => {
    sut = await TestApp.start();
    team = await orgWithEveryRole(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  const settings = (session: UserSession, reminder_emails_enabled: boolean) =>
    sut.patch('/v1/orgs/current/settings', { token: session.token, body: { reminder_emails_enabled } });

  it('lets an owner or admin turn reminder emails off and on again, and every member read it', async () => {
    const off = await settings(team.owner, false);
    expect(off.status).toBe(200);
    expect(off.body.data.reminder_emails_enabled).toBe(false);
    const read = await sut.get('/v1/orgs/current/settings', { token: team.viewer.token });
    expect(read.status).toBe(200);
    expect(read.body.data.reminder_emails_enabled).toBe(false);

    const on = await settings(team.admin, true);
    expect(on.status).toBe(200);
    expect(on.body.data.reminder_emails_enabled).toBe(true);
    expect((await sut.get('/v1/orgs/current/settings', { token: team.developer.token })).body.data.reminder_emails_enabled).toBe(true);
  });

  it.each(['developer', 'viewer'] as const)('refuses the setting to a %s (403) and leaves it as it was', async (role) => {
    expect((await settings(team[role], false)).status).toBe(403);
    expect((await sut.get('/v1/orgs/current/settings', { token: team.owner.token })).body.data.reminder_emails_enabled).toBe(true);
  });
});
