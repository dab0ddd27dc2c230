import { Migration } from '@mikro-orm/migrations';

/**
 * Every statement that inserts outbox events sends NOTIFY `outbox_events`. Postgres
 * delivers a notification only when (and if) its transaction commits, and folds those
 * of one transaction into one, so the relay wakes once per committed change instead
 * of polling several times a second. Polling stays as the backstop (a listener
 * reconnecting misses what was sent meanwhile).
 */
export class Migration20261130000000OutboxNotify extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function outbox_events_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('outbox_events', '');
        return null;
      end $$;`);
    this.addSql(`
      create trigger outbox_events_notify after insert on outbox_events
        for each statement execute function outbox_events_notify();`);
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists outbox_events_notify on outbox_events;');
    this.addSql('drop function if exists outbox_events_notify();');
  }
}
