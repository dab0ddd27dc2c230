import { Migration } from '@mikro-orm/migrations';

/** Webhook endpoints (secrets sealed), one delivery per endpoint and event, and each attempt. */
export class Migration20261123170000Webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table webhook_endpoints (
        id text primary key,
        organization_id text not null references organizations (id) on delete cascade,
        environment text not null check (environment in ('test', 'live')),
        url text not null,
        description varchar(500) null,
        events text[] not null,
        secret_sealed text not null,
        previous_secret_sealed text null,
        previous_secret_expires_at timestamptz null,
        rate_limit_per_second integer null,
        disabled_at timestamptz null,
        disabled_reason text null check (disabled_reason in ('manual', 'gone', 'failing')),
        failing_since timestamptz null,
        created_by text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );`);
    this.addSql(`create index webhook_endpoints_organization_id_id_index on webhook_endpoints (organization_id, id);`);
    this.addSql(`
      create table webhook_deliveries (
        id text primary key,
        org_id text not null,
        endpoint_id text not null references webhook_endpoints (id) on delete cascade,
        event_id text not null,
        event_type text not null,
        payload jsonb not null,
        status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
        attempt_count integer not null default 0,
        next_attempt_at timestamptz null,
        last_attempt_at timestamptz null,
        last_status_code integer null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (endpoint_id, event_id)
      );`);
    this.addSql(`create index webhook_deliveries_endpoint_id_id_index on webhook_deliveries (endpoint_id, id);`);
    this.addSql(`create index webhook_deliveries_pending_index on webhook_deliveries (next_attempt_at) where status = 'pending';`);
    this.addSql(`
      create table webhook_delivery_attempts (
        id bigint generated always as identity primary key,
        delivery_id text not null references webhook_deliveries (id) on delete cascade,
        attempted_at timestamptz not null,
        status_code integer null,
        duration_ms integer not null,
        response_body varchar(1024) null,
        error text null
      );`);
    this.addSql(`create index webhook_delivery_attempts_delivery_id_index on webhook_delivery_attempts (delivery_id, id);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists webhook_delivery_attempts;');
    this.addSql('drop table if exists webhook_deliveries;');
    this.addSql('drop table if exists webhook_endpoints;');
  }
}
