import { Migration } from '@mikro-orm/migrations';

/** Management keys (issue 18): organisation tokens with a role, for scripts and CI. */
export class Migration20261206210000ManagementKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table management_keys (
        id text primary key,
        organization_id text not null references organizations (id) on delete cascade,
        name varchar(100) not null,
        role text not null check (role in ('owner', 'admin', 'developer', 'viewer')),
        environment text null check (environment in ('test', 'live')),
        token_hash varchar(64) not null unique,
        last4 varchar(4) not null,
        ip_allowlist text[] not null default '{}',
        created_by text not null,
        created_at timestamptz not null,
        expires_at timestamptz null,
        last_used_at timestamptz null,
        last_refused_at timestamptz null,
        revoked_at timestamptz null
      );`);
    this.addSql(`create index management_keys_organization_id_id_index on management_keys (organization_id, id);`);
    // A change made with a management key is audited with the key as its actor.
    this.addSql(`alter table audit_logs drop constraint audit_logs_actor_type_check;`);
    this.addSql(`
      alter table audit_logs add constraint audit_logs_actor_type_check
        check (actor_type in ('user', 'api_key', 'management_key', 'platform', 'system'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table audit_logs drop constraint audit_logs_actor_type_check;`);
    this.addSql(
      `alter table audit_logs add constraint audit_logs_actor_type_check check (actor_type in ('user', 'api_key', 'platform', 'system'));`,
    );
    this.addSql('drop table if exists management_keys;');
  }
}
