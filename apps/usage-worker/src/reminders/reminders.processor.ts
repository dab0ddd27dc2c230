import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import { Counter } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { MetricsService, WorkerHost } from '@latchkey/platform';

import { KeyRemindersService, ReminderRun } from './key-reminders.service';

/**
 * Produced and consumed by usage-worker only (its job scheduler), hence declared here
 * rather than in contracts. DO NOT CHANGE the names: the stored scheduler refers to them.
 */
export const REMINDERS_QUEUE = 'key-reminders';
/** Also the scheduler's id. */
export const REMINDERS_JOB = 'send-due-reminders';
/**
 * Every five minutes: reminders are days apart, so this is punctual enough, and a run
 * missed while every worker was down is made up by the next (it sends whatever is due).
 */
export const REMINDERS_EVERY_MS = 5 * 60_000;
const CLOSE_DEADLINE_MS = 5_000;

/**
 * Runs KeyRemindersService from a BullMQ job scheduler (no cron outside the queue):
 * one job per interval across every worker process, with concurrency 1 here, so
 * runs never overlap; the `reminders_sent` guard makes an overlap harmless anyway.
 */
@Injectable()
export class RemindersProcessor extends WorkerHost<Record<string, never>, ReminderRun> {
  private readonly sentTotal: Counter<'type'>;

  constructor(
    config: AppConfig,
    private readonly reminders: KeyRemindersService,
    metrics: MetricsService,
  ) {
    // A run still going after the close deadline is abandoned; its claims roll back and the next run sends them.
    super(config, {
      queue: REMINDERS_QUEUE,
      jobLabel: 'reminder run',
      concurrency: 1,
      closeDeadlineMs: CLOSE_DEADLINE_MS,
      schedule: { everyMs: REMINDERS_EVERY_MS, jobName: REMINDERS_JOB },
    });
    this.sentTotal = new Counter({
      name: 'key_reminders_sent_total',
      help: 'Expiry and rotation reminders sent (each once per key and milestone), by event type.',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
  }

  /** Adds a run now (tests, operators); the scheduler adds the regular ones. */
  runNow(): Promise<Job> {
    return this.addScheduledJob({});
  }

  process(): Promise<ReminderRun> {
    return this.runOnce();
  }

  async runOnce(): Promise<ReminderRun> {
    const run = await this.reminders.sendDue();
    if (run.expiring) this.sentTotal.inc({ type: 'api_key.expiring' }, run.expiring);
    if (run.expired) this.sentTotal.inc({ type: 'api_key.expired' }, run.expired);
    if (run.rotationDue) this.sentTotal.inc({ type: 'api_key.rotation_due' }, run.rotationDue);
    return run;
  }
}
