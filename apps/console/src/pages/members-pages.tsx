import { useEffect, useState } from 'react';

import { api, apiPage, Invitation, managesOrg, Member, Role, Session } from '../api';
import { ErrorNotice, Field, fieldError, formatDate, formText } from '../components';

const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];

export function MembersPage({ session }: { session: Session }) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [inviteError, setInviteError] = useState<unknown>(null);
  const [inviting, setInviting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const admin = managesOrg(session);
  // Only an owner can add an owner.
  const offeredRoles = ROLES.filter((role) => role !== 'owner' || session.role === 'owner');

  async function load() {
    const [memberPage, invitationPage] = await Promise.all([
      apiPage<Member>('/v1/members'),
      admin ? apiPage<Invitation>('/v1/members/invitations') : Promise.resolve({ data: [] as Invitation[] }),
    ]);
    setMembers(memberPage.data);
    setInvitations(invitationPage.data);
  }

  useEffect(() => {
    load().catch(setError);
  }, []);

  async function invite(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = formText(form, 'email').trim();
    setBusy(true);
    setInviteError(null);
    setNotice(null);
    try {
      await api('POST', '/v1/members', { email, role: form.get('role') });
      setNotice(`Invitation sent to ${email}.`);
      setInviting(false);
      await load();
    } catch (caught) {
      setInviteError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <div className="heading">
        <h1>Members</h1>
        {admin && !inviting && (
          <button type="button" onClick={() => setInviting(true)}>
            Invite member
          </button>
        )}
      </div>
      <p aria-live="polite">{notice}</p>
      {inviting && (
        <form className="narrow" onSubmit={(event) => void invite(event)} noValidate aria-labelledby="invite-heading">
          <h2 id="invite-heading">Invite a member</h2>
          <Field id="invite-email" label="Email" error={fieldError(inviteError, 'email')}>
            <input id="invite-email" name="email" type="email" autoComplete="off" required />
          </Field>
          <Field id="invite-role" label="Role" error={fieldError(inviteError, 'role')}>
            <select id="invite-role" name="role" defaultValue="developer">
              {offeredRoles.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          </Field>
          <ErrorNotice error={inviteError} />
          <button type="submit" disabled={busy}>
            {busy ? 'Inviting…' : 'Send invitation'}
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setInviting(false)}>
            Cancel
          </button>
        </form>
      )}
      <ErrorNotice error={error} />
      {members === null && !error && <p aria-live="polite">Loading members…</p>}
      {members !== null && (
        <table>
          <caption className="visually-hidden">Members of the organisation and their roles</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <tr key={member.id}>
                <td>{member.name}</td>
                <td>{member.email}</td>
                <td>{member.role}</td>
                <td>{formatDate(member.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && invitations !== null && invitations.length > 0 && (
        <section aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">Open invitations</h2>
          <table>
            <caption className="visually-hidden">Invitations not yet accepted</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {invitations.map((invitation) => (
                <tr key={invitation.id}>
                  <td>{invitation.email}</td>
                  <td>{invitation.role}</td>
                  <td>{invitation.status}</td>
                  <td>{formatDate(invitation.expires_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
