import { Migration } from '@mikro-orm/migrations';

/** `rotation_due:<secret_rotated_at, ISO-8601 UTC to the millisecond>`, as the usage worker writes it. */
const ROTATION_KIND = `'rotation_due:' || to_char(k.secret_rotated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Retention and rotation for the usage worker (issue 6).
 *
 * - `api_keys.secret_rotated_at`: when the current secret was issued (creation, then each
 *   roll). Filled from the latest `api_key.rolled` audit row of each key, else its
 *   creation. The rotation reminder scan counts from it, so its index replaces the one
 *   on created_at.
 * - `reminders_sent`: `rotation_due` becomes once per rotation, `rotation_due:<rotated at>`.
 *   A row sent for the current secret is renamed so it is not sent again; a row sent
 *   before the key's last roll belonged to the old secret and goes.
 * - `request_logs_{test,live}_default`: DEFAULT partitions. A check whose day has no
 *   partition yet lands there instead of failing, so the insert path never runs DDL
 *   (creating a partition on demand took an ACCESS EXCLUSIVE lock on the parent while
 *   `GET /v1/logs` held shared ones: deadlocks). The maintenance job creates days
 *   ahead and moves any such rows into their day when it creates it.
 * - `usage_counters`: an index for pruning old minute and hour counters (day counters
 *   are kept, so they stay out of it).
 * - Organisation settings gain `request_log_retention_{test,live}_days` (null: the
 *   deployment's default), written out so every organisation answers the same shape.
 */
export class Migration20261129210000UsageRetention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table api_keys add column secret_rotated_at timestamptz null;`);
    // One pass over the roll entries, grouped, rather than a correlated lookup per key: this
    // runs while the new column's ACCESS EXCLUSIVE lock on api_keys is held.
    this.addSql(`
      update api_keys k set secret_rotated_at = coalesce(rolled.at, k.created_at)
        from api_keys k2
        left join (
          select org_id, target_id, max(created_at) as at from audit_logs
           where action = 'api_key.rolled' group by org_id, target_id
        ) rolled on rolled.org_id = k2.organization_id and rolled.target_id = k2.id
       where k2.id = k.id;`);
    this.addSql(`alter table api_keys alter column secret_rotated_at set not null;`);
    this.addSql(`drop index if exists api_keys_created_at_index;`);
    this.addSql(`create index api_keys_secret_rotated_at_index on api_keys (secret_rotated_at) where revoked_at is null;`);

    this.addSql(`
      update reminders_sent r set kind = ${ROTATION_KIND}
        from api_keys k
       where r.key_id = k.id and r.kind = 'rotation_due' and r.sent_at >= k.secret_rotated_at;`);
    this.addSql(`delete from reminders_sent where kind = 'rotation_due';`);

    this.addSql(`create table request_logs_test_default partition of request_logs_test default;`);
    this.addSql(`create table request_logs_live_default partition of request_logs_live default;`);

    this.addSql(
      `create index usage_counters_prunable_index on usage_counters (granularity, bucket_start) where granularity in ('minute', 'hour');`,
    );

    this.addSql(`
      update organizations
         set settings = jsonb_build_object('request_log_retention_test_days', null, 'request_log_retention_live_days', null) || settings;`);
  }

  override async down(): Promise<void> {
    this.addSql(`update organizations set settings = settings - 'request_log_retention_test_days' - 'request_log_retention_live_days';`);
    this.addSql('drop index if exists usage_counters_prunable_index;');
    // Rows in a default partition would have nowhere to go: they leave with it.
    this.addSql('drop table if exists request_logs_live_default;');
    this.addSql('drop table if exists request_logs_test_default;');
    // One `rotation_due` per key again: the latest one stays.
    this.addSql(`
      delete from reminders_sent r
       where r.kind like 'rotation_due:%'
         and exists (select 1 from reminders_sent n
                      where n.key_id = r.key_id and n.kind like 'rotation_due:%' and (n.sent_at, n.kind) > (r.sent_at, r.kind));`);
    this.addSql(`update reminders_sent set kind = 'rotation_due' where kind like 'rotation_due:%';`);
    this.addSql('drop index if exists api_keys_secret_rotated_at_index;');
    this.addSql(`create index api_keys_created_at_index on api_keys (created_at) where revoked_at is null;`);
    this.addSql('alter table api_keys drop column if exists secret_rotated_at;');
  }
}
