import { MigrationObject } from '@mikro-orm/core';

import { Migration20261123000000Foundation } from './20261123000000-foundation.migration';
import { Migration20261123160000ApiKeysAndOutbox } from './20261123160000-api-keys-and-outbox.migration';
import { Migration20261123170000Webhooks } from './20261123170000-webhooks.migration';
import { Migration20261123180000Usage } from './20261123180000-usage.migration';
import { Migration20261123190000Alerts } from './20261123190000-alerts.migration';
import { Migration20261129210000UsageRetention } from './20261129210000-usage-retention.migration';
import { Migration20261129230000ExpiryReminders } from './20261129230000-expiry-reminders.migration';
import { Migration20261130000000OutboxNotify } from './20261130000000-outbox-notify.migration';
import { Migration20261202190000UsageQuarantine } from './20261202190000-usage-quarantine.migration';
import { Migration20261202210000EmailOwnership } from './20261202210000-email-ownership.migration';
import { Migration20261203100000ReminderEmails } from './20261203100000-reminder-emails.migration';
import { Migration20261206210000ManagementKeys } from './20261206210000-management-keys.migration';

/**
 * Every migration in order. Listed explicitly (rather than globbed from disk) so the
 * same list works from TypeScript in tests and from the compiled build.
 * Append only; never edit a migration that has shipped.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123000000Foundation', class: Migration20261123000000Foundation },
  { name: 'Migration20261123160000ApiKeysAndOutbox', class: Migration20261123160000ApiKeysAndOutbox },
  { name: 'Migration20261123170000Webhooks', class: Migration20261123170000Webhooks },
  { name: 'Migration20261123180000Usage', class: Migration20261123180000Usage },
  { name: 'Migration20261123190000Alerts', class: Migration20261123190000Alerts },
  { name: 'Migration20261129210000UsageRetention', class: Migration20261129210000UsageRetention },
  { name: 'Migration20261129230000ExpiryReminders', class: Migration20261129230000ExpiryReminders },
  { name: 'Migration20261130000000OutboxNotify', class: Migration20261130000000OutboxNotify },
  { name: 'Migration20261202190000UsageQuarantine', class: Migration20261202190000UsageQuarantine },
  { name: 'Migration20261202210000EmailOwnership', class: Migration20261202210000EmailOwnership },
  { name: 'Migration20261203100000ReminderEmails', class: Migration20261203100000ReminderEmails },
  { name: 'Migration20261206210000ManagementKeys', class: Migration20261206210000ManagementKeys },
];
