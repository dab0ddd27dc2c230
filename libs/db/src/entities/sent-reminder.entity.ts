import { Entity, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';

/**
 * A reminder or quota notice already sent for a key
 * (docs/api-conventions.md#usage-logs-and-alerts). Inserted in the same transaction as
 * its outbox event with `on conflict do nothing`: the event is written only by the
 * insert that created the row, so each is sent once, however many runs or worker
 * processes see the key meanwhile.
 *
 * `kind` names the milestone: `expiring_7d:<expires_at>`, `expiring_1d:<expires_at>`,
 * `expired:<expires_at>` (once per expiry date: moving `expires_at` makes new ones due),
 * `rotation_due:<secret_rotated_at>` (once per secret: a roll makes a new one due),
 * or `quota_warning:<period>` / `quota_exceeded:<period>` (for example
 * `quota_warning:2026-11-23`), once per key and quota period. The usage worker's
 * maintenance prunes rows that can no longer matter (see SentRemindersPruner).
 */
@Entity({ tableName: 'reminders_sent' })
export class SentReminder {
  [PrimaryKeyProp]?: ['keyId', 'kind'];

  /** No foreign key: a notice for a key deleted meanwhile must still commit. */
  @PrimaryKey({ type: 'string' })
  keyId!: string;

  @PrimaryKey({ type: 'string' })
  kind!: string;

  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'datetime' })
  sentAt: Date = new Date();
}
