import { EntityManager } from '@mikro-orm/postgresql';

export interface ReminderClaim {
  keyId: string;
  kind: string;
  orgId: string;
}

/**
 * Records reminders as sent, in the caller's transaction, and answers which of them
 * were not sent before: only those get their outbox event. Concurrent runs block on
 * the primary key until the first commits, then insert (and send) nothing.
 */
export async function claimReminders(tx: EntityManager, claims: ReminderClaim[], sentAt: Date): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const rows = await tx.execute<{ key_id: string; kind: string }[]>(
    `insert into reminders_sent (key_id, kind, org_id, sent_at)
     select r.key_id, r.kind, r.org_id, ?::timestamptz
       from jsonb_to_recordset(?::jsonb) as r(key_id text, kind text, org_id text)
      order by r.key_id, r.kind
     on conflict (key_id, kind) do nothing
     returning key_id, kind`,
    [sentAt, JSON.stringify(claims.map((claim) => ({ key_id: claim.keyId, kind: claim.kind, org_id: claim.orgId })))],
  );
  return new Set(rows.map((row) => claimId(row.key_id, row.kind)));
}

export function claimId(keyId: string, kind: string): string {
  return `${keyId}|${kind}`;
}
