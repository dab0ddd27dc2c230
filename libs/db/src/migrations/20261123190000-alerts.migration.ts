import { Migration } from '@mikro-orm/migrations';

/**
 * Anomaly alerts and the record of reminders already sent
 * (docs/api-conventions.md#usage-logs-and-alerts).
 *
 * - `alerts`: one row per episode, unique (org_id, type, episode_key), so a rule that
 *   keeps firing during its window inserts nothing more (`on conflict do nothing`).
 *   key_id has no foreign key: an alert outlives the key it is about.
 * - `reminders_sent`: (key_id, kind) is the once-only guard of expiry, rotation and
 *   quota notices; written in the transaction of the outbox event it gates.
 */
export class Migration20261123190000Alerts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table alerts (
        id text primary key,
        org_id text not null references organizations (id) on delete cascade,
        key_id text null,
        environment text null check (environment in ('test', 'live')),
        type text not null,
        severity text not null check (severity in ('info', 'warning', 'critical')),
        episode_key text not null,
        details jsonb not null,
        created_at timestamptz not null,
        acknowledged_at timestamptz null,
        acknowledged_by text null,
        unique (org_id, type, episode_key)
      );`);
    this.addSql(`create index alerts_org_id_id_index on alerts (org_id, id);`);
    this.addSql(`create index alerts_org_id_key_id_id_index on alerts (org_id, key_id, id);`);
    this.addSql(`
      create table reminders_sent (
        key_id text not null,
        kind text not null,
        org_id text not null,
        sent_at timestamptz not null,
        primary key (key_id, kind)
      );`);
    // The reminder scan's two questions: which keys expire soon, and which are old.
    this.addSql(`create index api_keys_expires_at_index on api_keys (expires_at) where revoked_at is null and expires_at is not null;`);
    this.addSql(`create index api_keys_created_at_index on api_keys (created_at) where revoked_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists api_keys_created_at_index;');
    this.addSql('drop index if exists api_keys_expires_at_index;');
    this.addSql('drop table if exists reminders_sent;');
    this.addSql('drop table if exists alerts;');
  }
}
