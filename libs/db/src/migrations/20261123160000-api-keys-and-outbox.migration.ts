import { Migration } from '@mikro-orm/migrations';

/** API keys (secrets only as HMACs or sealed) and the transactional outbox of domain events. */
export class Migration20261123160000ApiKeysAndOutbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table api_keys (
        id text primary key,
        organization_id text not null references organizations (id) on delete cascade,
        environment text not null check (environment in ('test', 'live')),
        name varchar(100) not null,
        description varchar(500) null,
        prefix varchar(8) not null,
        last4 varchar(4) not null,
        secret_hash varchar(64) not null unique,
        previous_secret_hash varchar(64) null unique,
        previous_secret_expires_at timestamptz null,
        public_key varchar(46) null unique,
        signing_secret_sealed text null,
        previous_signing_secret_sealed text null,
        created_by text not null,
        owner_id varchar(200) null,
        permissions text[] not null default '{}',
        restrictions jsonb not null,
        rate_limit jsonb null,
        quota jsonb null,
        metadata jsonb not null,
        expires_at timestamptz null,
        last_used_at timestamptz null,
        disabled_at timestamptz null,
        revoked_at timestamptz null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );`);
    this.addSql(`create index api_keys_organization_id_id_index on api_keys (organization_id, id);`);
    this.addSql(`create index api_keys_organization_id_created_by_index on api_keys (organization_id, created_by);`);
    this.addSql(`create index api_keys_organization_id_owner_id_index on api_keys (organization_id, owner_id);`);
    this.addSql(`
      create table outbox_events (
        id text primary key,
        org_id text not null,
        environment text null,
        type text not null,
        data jsonb not null,
        created_at timestamptz not null,
        relayed_at timestamptz null
      );`);
    // The relay only ever reads the unrelayed tail.
    this.addSql(`create index outbox_events_unrelayed_index on outbox_events (id) where relayed_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists outbox_events;');
    this.addSql('drop table if exists api_keys;');
  }
}
