import { Migration } from '@mikro-orm/migrations';

/**
 * Proof that a person owns an email address (docs/api-conventions.md#credentials):
 * - users.email_verified_at: set by the single-use link mailed at signup;
 * - user_tokens: single-use, expiring tokens mailed to a user (email verification,
 *   password reset), stored only as SHA-256 hashes;
 * - invitations get a token hash, an expiry and a status: an invitation becomes a
 *   membership only when the invited, verified address accepts it with its token.
 *   Rows from before have no token (nobody can accept them) until an admin resends.
 *   Only one pending invitation per organisation and address; answered ones stay as history.
 */
export class Migration20261202210000EmailOwnership extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table users add column email_verified_at timestamptz null;`);
    this.addSql(`
      create table user_tokens (
        id text primary key,
        user_id text not null references users (id) on delete cascade,
        purpose text not null check (purpose in ('verify_email', 'password_reset')),
        token_hash varchar(64) not null unique,
        expires_at timestamptz not null,
        used_at timestamptz null,
        created_at timestamptz not null
      );`);
    this.addSql(`create index user_tokens_user_id_purpose_index on user_tokens (user_id, purpose);`);
    this.addSql(`alter table invitations add column token_hash varchar(64) null unique;`);
    this.addSql(`alter table invitations add column expires_at timestamptz null;`);
    this.addSql(
      `alter table invitations add column status text not null default 'pending' check (status in ('pending', 'accepted', 'declined', 'revoked'));`,
    );
    this.addSql(`alter table invitations add column responded_at timestamptz null;`);
    this.addSql(`update invitations set expires_at = created_at + interval '7 days';`);
    this.addSql(`alter table invitations alter column expires_at set not null;`);
    this.addSql(`alter table invitations drop constraint invitations_organization_id_email_key;`);
    this.addSql(`create unique index invitations_pending_unique on invitations (organization_id, email) where status = 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from invitations where status <> 'pending';`);
    this.addSql(`drop index invitations_pending_unique;`);
    this.addSql(`alter table invitations add constraint invitations_organization_id_email_key unique (organization_id, email);`);
    this.addSql(`alter table invitations drop column responded_at, drop column status, drop column expires_at, drop column token_hash;`);
    this.addSql('drop table if exists user_tokens;');
    this.addSql(`alter table users drop column email_verified_at;`);
  }
}
