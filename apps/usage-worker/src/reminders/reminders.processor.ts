import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { Counter } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { bullPrefix } from '@latchkey/contracts';
import { closeBullmq, errorMessageForLog, MetricsService, withDeadline } from '@latchkey/platform';

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
const SCHEDULE_RETRY_MS = 30_000;
const QUEUE_DEADLINE_MS = 5_000;
const CLOSE_DEADLINE_MS = 5_000;

/**
 * Runs KeyRemindersService from a BullMQ job scheduler (no cron outside the queue):
 * one job per interval across every worker process, with concurrency 1 here, so
 * runs never overlap; the `reminders_sent` guard makes an overlap harmless anyway.
 */
@Injectable()
export class RemindersProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RemindersProcessor.name);
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly sentTotal: Counter<'type'>;

  constructor(
    private readonly config: AppConfig,
    private readonly reminders: KeyRemindersService,
    metrics: MetricsService,
  ) {
    this.sentTotal = new Counter({
      name: 'key_reminders_sent_total',
      help: 'Expiry and rotation reminders sent (each once per key and milestone), by event type.',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    const connection = {
      url: this.config.get('REDIS_URL'),
      connectTimeout: 2_000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    };
    const prefix = bullPrefix(this.config.get('REDIS_PREFIX'));
    // Fail a producer command fast while Redis is away; the worker's blocking connection must not (BullMQ requires null).
    this.queue = new Queue(REMINDERS_QUEUE, { prefix, connection: { ...connection, maxRetriesPerRequest: 1 } });
    this.queue.on('error', (error: Error) => this.logger.debug(`redis: ${error.message}`));
    this.worker = new Worker(REMINDERS_QUEUE, () => this.runOnce(), {
      prefix,
      concurrency: 1,
      connection: { ...connection, maxRetriesPerRequest: null },
    });
    this.worker.on('error', (error: Error) => this.logger.debug(`redis: ${error.message}`));
    this.worker.on('failed', (_job: Job | undefined, error: Error) =>
      this.logger.warn(`reminder run failed: ${errorMessageForLog(error)}`),
    );
    void this.schedule();
  }

  /** Before the database and Redis connections close: finish the run in hand, or leave it to the next. */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.retry);
    const [worker, queue] = [this.worker, this.queue];
    this.worker = undefined;
    this.queue = undefined;
    // A run still going after the deadline is abandoned; its claims roll back and the next run sends them.
    await closeBullmq(worker, CLOSE_DEADLINE_MS);
    await closeBullmq(queue, QUEUE_DEADLINE_MS);
  }

  /** Adds a run now (tests, operators); the scheduler adds the regular ones. */
  async runNow(): Promise<Job> {
    if (!this.queue) throw new Error('reminders are not running');
    return this.queue.add(REMINDERS_JOB, {}, { removeOnComplete: 100, removeOnFail: 100 });
  }

  async runOnce(): Promise<ReminderRun> {
    const run = await this.reminders.sendDue();
    if (run.expiring) this.sentTotal.inc({ type: 'api_key.expiring' }, run.expiring);
    if (run.expired) this.sentTotal.inc({ type: 'api_key.expired' }, run.expired);
    if (run.rotationDue) this.sentTotal.inc({ type: 'api_key.rotation_due' }, run.rotationDue);
    return run;
  }

  private async schedule(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    try {
      await withDeadline(
        queue.upsertJobScheduler(
          REMINDERS_SCHEDULER,
          { every: REMINDERS_EVERY_MS },
          { name: REMINDERS_JOB, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
        ),
        QUEUE_DEADLINE_MS,
      );
    } catch (error) {
      this.logger.warn(`scheduling reminders failed (${errorMessageForLog(error)}); retrying in ${SCHEDULE_RETRY_MS / 1000} s`);
      this.retry = setTimeout(() => void this.schedule(), SCHEDULE_RETRY_MS);
      this.retry.unref();
    }
  }
}
