import { DomainEvent, QueueJob, QueueJobOptions } from '@latchkey/contracts';

/**
 * Produced and consumed by usage-worker only, hence declared here rather than in
 * contracts. DO NOT CHANGE the names or the job id format: a job id is what makes a
 * second add of the same mail a no-op, across versions during a rolling deploy too.
 */
export const REMINDER_MAILS_QUEUE = 'reminder-mails';
export const REMINDER_MAIL_JOB = 'send-reminder-mail';

export interface ReminderMailJobData {
  /** The reminder's outbox event, as the events queue carried it. */
  event: DomainEvent;
  user_id: string;
}

/** One mail per reminder event and recipient: `rmd-<evt id>-<usr id>` (BullMQ refuses ':' in ids). */
export function reminderMailJobId(eventId: string, userId: string): string {
  return `rmd-${eventId}-${userId}`;
}

/** The reminder mails' retry strategy. */
export const REMINDER_MAIL_JOB_OPTIONS = {
  // SMTP relays refuse for minutes at a time (greylisting, rate limits, a restart):
  // 10 attempts 30 s, 1 min, 2 min … apart span about eight hours.
  attempts: 10,
  backoff: { type: 'exponential', delay: 30_000 },
  // Not `true`: an add is ignored only while a job with its id is still stored. The
  // events job that adds these may run again (a worker that died mid-job, a retry after
  // Redis blipped); keeping sent mails' ids for a day keeps those re-adds no-ops.
  removeOnComplete: { age: 86_400 },
  removeOnFail: { age: 7 * 86_400 },
} as const satisfies QueueJobOptions;

/** The job of one reminder event's mail to one recipient, under its deterministic id. */
export function reminderMailJob(event: DomainEvent, userId: string): QueueJob<ReminderMailJobData, typeof REMINDER_MAIL_JOB> {
  return {
    name: REMINDER_MAIL_JOB,
    data: { event, user_id: userId },
    opts: { ...REMINDER_MAIL_JOB_OPTIONS, jobId: reminderMailJobId(event.id, userId) },
  };
}
