import { Migration } from '@mikro-orm/migrations';

/** Organisations, users, roles, sessions, invitations, the append-only audit log and idempotency records. */
export class Migration20261123000000Foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table organizations (
        id text primary key,
        name varchar(100) not null,
        live_access text not null default 'not_requested'
          check (live_access in ('not_requested', 'requested', 'approved')),
        live_access_requested_at timestamptz null,
        live_access_approved_at timestamptz null,
        settings jsonb not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );`);
    this.addSql(`
      create table users (
        id text primary key,
        email varchar(254) not null unique,
        name varchar(100) not null,
        password_hash text not null,
        created_at timestamptz not null
      );`);
    this.addSql(`
      create table memberships (
        id text primary key,
        organization_id text not null references organizations (id) on delete cascade,
        user_id text not null references users (id) on delete cascade,
        role text not null check (role in ('owner', 'admin', 'developer', 'viewer')),
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (organization_id, user_id)
      );`);
    this.addSql(`create index memberships_user_id_index on memberships (user_id);`);
    this.addSql(`
      create table invitations (
        id text primary key,
        organization_id text not null references organizations (id) on delete cascade,
        email varchar(254) not null,
        role text not null check (role in ('owner', 'admin', 'developer', 'viewer')),
        invited_by text not null,
        created_at timestamptz not null,
        unique (organization_id, email)
      );`);
    this.addSql(`create index invitations_email_index on invitations (email);`);
    this.addSql(`
      create table sessions (
        id text primary key,
        token_hash varchar(64) not null unique,
        user_id text not null references users (id) on delete cascade,
        org_id text not null references organizations (id) on delete cascade,
        ip text null,
        user_agent varchar(512) null,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        revoked_at timestamptz null
      );`);
    this.addSql(`create index sessions_user_id_index on sessions (user_id);`);
    this.addSql(`
      create table audit_logs (
        id text primary key,
        org_id text not null,
        actor_type text not null check (actor_type in ('user', 'api_key', 'platform', 'system')),
        actor_id text null,
        action text not null,
        target_type text null,
        target_id text null,
        ip text null,
        user_agent varchar(512) null,
        before jsonb null,
        after jsonb null,
        created_at timestamptz not null
      );`);
    this.addSql(`create index audit_logs_org_id_id_index on audit_logs (org_id, id);`);
    // The audit log is evidence: nobody, the application included, may rewrite it.
    this.addSql(`
      create function audit_logs_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_logs is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end;
      $$;`);
    this.addSql(`
      create trigger audit_logs_append_only
        before update or delete on audit_logs
        for each row execute function audit_logs_refuse_change();`);
    this.addSql(`
      create trigger audit_logs_no_truncate
        before truncate on audit_logs
        for each statement execute function audit_logs_refuse_change();`);
    this.addSql(`
      create table idempotency_records (
        scope text not null,
        key varchar(255) not null,
        request_hash varchar(64) not null,
        response_status integer null,
        response_sealed text null,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        primary key (scope, key)
      );`);
    this.addSql(`create index idempotency_records_expires_at_index on idempotency_records (expires_at);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists idempotency_records;');
    this.addSql('drop table if exists audit_logs;');
    this.addSql('drop function if exists audit_logs_refuse_change();');
    this.addSql('drop table if exists sessions;');
    this.addSql('drop table if exists invitations;');
    this.addSql('drop table if exists memberships;');
    this.addSql('drop table if exists users;');
    this.addSql('drop table if exists organizations;');
  }
}
