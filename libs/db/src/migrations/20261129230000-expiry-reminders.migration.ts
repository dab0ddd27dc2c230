import { Migration } from '@mikro-orm/migrations';

/** `<milestone>:<expires_at, ISO-8601 UTC to the millisecond>`, as the usage worker writes it. */
const EXPIRY_KIND = `r.kind || ':' || to_char(k.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Expiry reminders become once per expiry date (`api_key.expiring` and `api_key.expired`
 * were once per key, so a key whose expiry was moved was never reminded of the new date).
 *
 * `reminders_sent` kinds `expiring_7d`, `expiring_1d` and `expired` become
 * `<kind>:<expires_at>`. A row that may have been sent for the key's current expiry is
 * renamed so it is not sent again: the scan sends a milestone only once the expiry is
 * within its window (7 days, 1 day, past), so a row sent before the current expiry's
 * window opened was about an earlier date, and goes — as do rows of keys without an
 * expiry or deleted since. Hours, not days, in the window: a day interval on
 * timestamptz follows the session's time zone across DST changes.
 *
 * A row sent inside the current window for an expiry moved since cannot be told apart,
 * and keeps suppressing, as before this migration.
 */
export class Migration20261129230000ExpiryReminders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      update reminders_sent r set kind = ${EXPIRY_KIND}
        from api_keys k
       where r.key_id = k.id and k.expires_at is not null
         and (   (r.kind = 'expiring_7d' and r.sent_at >= k.expires_at - interval '168 hours')
              or (r.kind = 'expiring_1d' and r.sent_at >= k.expires_at - interval '24 hours')
              or (r.kind = 'expired' and r.sent_at >= k.expires_at));`);
    this.addSql(`delete from reminders_sent where kind in ('expiring_7d', 'expiring_1d', 'expired');`);
  }

  override async down(): Promise<void> {
    // One row per key and milestone again: the latest one stays.
    this.addSql(`
      delete from reminders_sent r
       where r.kind ~ '^(expiring_7d|expiring_1d|expired):'
         and exists (select 1 from reminders_sent n
                      where n.key_id = r.key_id and split_part(n.kind, ':', 1) = split_part(r.kind, ':', 1)
                        and n.kind ~ '^(expiring_7d|expiring_1d|expired):' and (n.sent_at, n.kind) > (r.sent_at, r.kind));`);
    this.addSql(`update reminders_sent set kind = split_part(kind, ':', 1) where kind ~ '^(expiring_7d|expiring_1d|expired):';`);
  }
}
