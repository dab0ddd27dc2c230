import { EntityManager } from '@mikro-orm/postgresql';

import { Role } from '@latchkey/contracts';

/**
 * Who is mailed a key's reminder: the org's owners and admins, and the key's creator
 * while still a member (a creator who left the org gets nothing), each once (one
 * membership per user and org), with a verified address only (an unverified one may
 * belong to someone else), and nobody when the org turned reminder mails off (only an
 * explicit `false` does: settings from before the setting lack it) or the key is
 * revoked or gone. One statement so the producer and the processor ask the same thing:
 * who may get it when it is queued, and whether that still holds when it is sent.
 */
function audienceSql(columns: string, userFilter: string): string {
  return `select ${columns}
            from organizations o
            join api_keys k on k.id = ? and k.organization_id = o.id and k.revoked_at is null
            join memberships m on m.organization_id = o.id ${userFilter}
            join users u on u.id = m.user_id
           where o.id = ?
             -- reminderEmailsEnabled (@latchkey/db) in SQL: only an explicit false turns mails off.
             and (o.settings -> 'reminder_emails_enabled') is distinct from 'false'::jsonb
             and u.email_verified_at is not null
             and (m.role in ('${Role.Owner}', '${Role.Admin}') or u.id = k.created_by)`;
}

/** The user ids a reminder about `keyId` goes to, in id order (empty when mails are off). */
export async function reminderRecipients(em: EntityManager, orgId: string, keyId: string): Promise<string[]> {
  const rows = await em.execute<{ user_id: string }[]>(`${audienceSql('u.id as user_id', '')} order by u.id`, [keyId, orgId]);
  return rows.map((row) => row.user_id);
}

export interface ReminderAddressee {
  email: string;
  org_name: string;
  /** The key as it is now, to tell whether the reminder still holds. */
  expires_at: Date | null;
  secret_rotated_at: Date;
}

/** Where one user's mail of a reminder goes now, or null when they are no longer to get it. */
export async function reminderAddressee(
  em: EntityManager,
  orgId: string,
  keyId: string,
  userId: string,
): Promise<ReminderAddressee | null> {
  const rows = await em.execute<ReminderAddressee[]>(
    audienceSql('u.email, o.name as org_name, k.expires_at, k.secret_rotated_at', 'and m.user_id = ?'),
    [keyId, userId, orgId],
  );
  return rows[0] ?? null;
}
