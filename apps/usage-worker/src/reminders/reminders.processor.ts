import { Injectable } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { Counter } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { QueueJobOptions } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue, keepJobScheduler, KeptJobScheduler, MetricsService, WorkerHost } from '@latchkey/platform';

import { KeyRemindersService, ReminderRun } from './key-reminders.service';

/**
 * Produced and consumed by usage-worker only (its job scheduler), hence declared here
 * rather than in contracts. DO NOT CHANGE the names: the stored scheduler refers to them.
 */
export const REMINDERS_QUEUE = 'key-reminders';
export const REMINDERS_JOB = 'send-due-reminders';
export const REMINDERS_SCHEDULER = 'send-due-reminders';
/**
 * Every five minutes: reminders are days apart, so this is punctual enough, and a run
 * missed while every worker was down is made up by the next (it sends whatever is due).
 */
export const REMINDERS_EVERY_MS = 5 * 60_000;
/** Runs are kept a while for an operator to look at, then dropped. */
const REMINDERS_JOB_OPTIONS = { removeOnComplete: 100, removeOnFail: 100 } as const satisfies QueueJobOptions;
const QUEUE_DEADLINE_MS = 5_000;
const CLOSE_DEADLINE_MS = 5_000;

/**
 * Runs KeyRemindersService from a BullMQ job scheduler (no cron outside the queue):
 * one job per interval across every worker process, with concurrency 1 here, so
 * runs never overlap; the `reminders_sent` guard makes an overlap harmless anyway.
 */
@Injectable()
export class RemindersProcessor extends WorkerHost<Record<string, never>, ReminderRun> {
  private queue: Queue | undefined;
  private scheduler: KeptJobScheduler | undefined;
  private readonly sentTotal: Counter<'type'>;

  constructor(
    private readonly config: AppConfig,
    private readonly reminders: KeyRemindersService,
    metrics: MetricsService,
  ) {
    // A run still going after the close deadline is abandoned; its claims roll back and the next run sends them.
    super(config, { queue: REMINDERS_QUEUE, jobLabel: 'reminder run', concurrency: 1, closeDeadlineMs: CLOSE_DEADLINE_MS });
    this.sentTotal = new Counter({
      name: 'key_reminders_sent_total',
      help: 'Expiry and rotation reminders sent (each once per key and milestone), by event type.',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
  }

  override onApplicationBootstrap(): void {
    this.queue = createProducerQueue(REMINDERS_QUEUE, this.config, this.logger);
    super.onApplicationBootstrap();
    this.scheduler = keepJobScheduler(
      this.queue,
      {
        id: REMINDERS_SCHEDULER,
        everyMs: REMINDERS_EVERY_MS,
        job: { name: REMINDERS_JOB, data: {}, opts: REMINDERS_JOB_OPTIONS },
        label: 'reminders',
        deadlineMs: QUEUE_DEADLINE_MS,
      },
      this.logger,
    );
  }

  /** Before the database and Redis connections close: finish the run in hand, or leave it to the next. */
  override async beforeApplicationShutdown(): Promise<void> {
    this.scheduler?.stop();
    const queue = this.queue;
    this.queue = undefined;
    await super.beforeApplicationShutdown();
    await closeBullmq(queue, QUEUE_DEADLINE_MS);
  }

  /** Adds a run now (tests, operators); the scheduler adds the regular ones. */
  async runNow(): Promise<Job> {
    if (!this.queue) throw new Error('reminders are not running');
    return this.queue.add(REMINDERS_JOB, {}, REMINDERS_JOB_OPTIONS);
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
