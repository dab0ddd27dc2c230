import { Migration } from '@mikro-orm/migrations';

/**
 * Usage events Postgres refuses (a NUL byte or an unpaired surrogate in a string, a
 * number past bigint) are set aside here by the usage worker instead of failing the
 * whole batch they came in, which holds other tenants' checks. `event` is the event as
 * JSON text with such characters left as `\u` escapes, so the row itself is always
 * storable; the operator reads them through GET /v1/platform/usage-quarantine.
 * Written in the same transaction as the batch they came from: kept exactly once.
 */
export class Migration20261202190000UsageQuarantine extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table usage_quarantined_events (
        id text primary key,
        batch_id text not null,
        reason text not null,
        event text not null,
        quarantined_at timestamptz not null
      );`);
    this.addSql(`create index usage_quarantined_events_quarantined_at_index on usage_quarantined_events (quarantined_at);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists usage_quarantined_events;');
  }
}
