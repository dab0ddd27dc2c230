import { Migration } from '@mikro-orm/migrations';

/**
 * Usage metering and request logs (docs/api-conventions.md#usage-logs-and-alerts).
 *
 * - `usage_counters`: one row per key × granularity × bucket × outcome code, bumped by
 *   one multi-row upsert per batch. org_id, environment and owner_id are copied in so
 *   the org-wide reports group without a join. No foreign key to api_keys: a batch for
 *   a key deleted meanwhile must still commit (or it would be retried forever).
 * - `usage_processed_batches`: the batch ids already counted, written in the same
 *   transaction as the counters, so a redelivered batch is counted once.
 * - `request_logs`: partitioned by environment (list), then by day (range on `at`).
 *   Each environment has its own retention (test 7 days, live 90 days), and a whole
 *   day of one environment is dropped at once instead of deleting rows. The daily
 *   partitions are created by the usage worker (ahead of time, and on demand).
 */
export class Migration20261123180000Usage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table usage_counters (
        key_id text not null,
        granularity text not null check (granularity in ('minute', 'hour', 'day')),
        bucket_start timestamptz not null,
        code text not null,
        org_id text not null,
        environment text not null check (environment in ('test', 'live')),
        owner_id varchar(200) null,
        count bigint not null check (count >= 0),
        primary key (key_id, granularity, bucket_start, code)
      );`);
    this.addSql(`create index usage_counters_org_id_granularity_bucket_start_index on usage_counters (org_id, granularity, bucket_start);`);
    this.addSql(`
      create table usage_processed_batches (
        batch_id text primary key,
        processed_at timestamptz not null
      );`);
    this.addSql(`create index usage_processed_batches_processed_at_index on usage_processed_batches (processed_at);`);
    this.addSql(`
      create table request_logs (
        id text not null,
        key_id text null,
        org_id text not null,
        environment text not null check (environment in ('test', 'live')),
        code text not null,
        ip text null,
        method text null,
        path text null,
        latency_us bigint not null,
        at timestamptz not null,
        primary key (environment, at, id)
      ) partition by list (environment);`);
    this.addSql(`create table request_logs_test partition of request_logs for values in ('test') partition by range (at);`);
    this.addSql(`create table request_logs_live partition of request_logs for values in ('live') partition by range (at);`);
    // Ids are ULIDs of the check's time, so `id desc` is newest first (keyset pagination).
    this.addSql(`create index request_logs_org_id_id_index on request_logs (org_id, id);`);
    this.addSql(`create index request_logs_org_id_key_id_id_index on request_logs (org_id, key_id, id);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists request_logs;');
    this.addSql('drop table if exists usage_processed_batches;');
    this.addSql('drop table if exists usage_counters;');
  }
}
