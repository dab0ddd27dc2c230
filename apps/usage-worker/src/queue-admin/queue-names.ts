import { EVENTS_QUEUE, USAGE_QUEUE, WEBHOOK_DELIVERIES_QUEUE } from '@latchkey/contracts';

import { REMINDER_MAILS_QUEUE } from '../reminder-mail/reminder-mails.queue';
import { REMINDERS_QUEUE } from '../reminders/reminders.processor';
import { USAGE_MAINTENANCE_QUEUE } from '../usage-events/usage-maintenance.processor';

/** Every BullMQ queue of a deployment: shown in Bull Board and measured for queue depth. */
export const ADMIN_QUEUES: readonly string[] = [
  USAGE_QUEUE,
  EVENTS_QUEUE,
  WEBHOOK_DELIVERIES_QUEUE,
  REMINDERS_QUEUE,
  REMINDER_MAILS_QUEUE,
  USAGE_MAINTENANCE_QUEUE,
];

/** The job states exported as queue depth (completed jobs are history, not depth). */
export const DEPTH_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;
