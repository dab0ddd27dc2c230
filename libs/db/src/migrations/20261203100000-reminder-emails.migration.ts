import { Migration } from '@mikro-orm/migrations';

/**
 * Organisation settings gain `reminder_emails_enabled` (default true): expiry and
 * rotation reminders are mailed to the key's creator and the org's owners and admins
 * as well as sent as webhook events. Written out so every organisation answers the
 * same shape; readers still treat a missing field as on.
 */
export class Migration20261203100000ReminderEmails extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update organizations set settings = jsonb_build_object('reminder_emails_enabled', true) || settings;`);
  }

  override async down(): Promise<void> {
    this.addSql(`update organizations set settings = settings - 'reminder_emails_enabled';`);
  }
}
