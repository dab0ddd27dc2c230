import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { WorkerHost } from '@latchkey/platform';

import { SentRemindersPruner, SentRemindersPruneRun } from '../reminders/sent-reminders-pruner.service';
import { EndedCredentialsPruner, EndedCredentialsPruneRun } from '../retention/ended-credentials-pruner.service';
import { OutboxPruner } from '../retention/outbox-pruner.service';
import { WebhookDeliveriesPruner } from '../retention/webhook-deliveries-pruner.service';
import { RequestLogPartitionsService } from './request-log-partitions.service';
import { RetentionWindows } from './request-log-retention';
import { RequestLogRetentionService } from './request-log-retention.service';
import { UsageHistoryPruner, UsageHistoryPruneRun } from './usage-history-pruner.service';

/**
 * Produced and consumed by usage-worker only (its job scheduler), hence declared here
 * rather than in contracts. DO NOT CHANGE the names: the stored scheduler refers to them.
 */
export const USAGE_MAINTENANCE_QUEUE = 'usage-maintenance';
/** Also the scheduler's id. */
export const USAGE_MAINTENANCE_JOB = 'request-log-maintenance';
/** Hourly: each run is idempotent, and a missed run (worker down at the time) is made up within the hour. */
const MAINTENANCE_EVERY_MS = 3_600_000;
const CLOSE_DEADLINE_MS = 5_000;

interface MaintenanceJobData {
  /** Test hook: run as of this time instead of now. */
  now?: string;
}

export interface MaintenanceRun {
  windows: RetentionWindows;
  /** Day partitions created (ahead of time, or for rows waiting in a DEFAULT partition). */
  created: string[];
  dropped: string[];
  /** Request-log rows deleted for being past their organisation's own (shorter) window. */
  orgRowsDeleted: number;
  strayRowsDeleted: number;
  usage: UsageHistoryPruneRun;
  reminders: SentRemindersPruneRun;
  /** Relayed outbox rows deleted. */
  outboxEvents: number;
  /** Finished webhook deliveries deleted (their attempts go with them). */
  webhookDeliveries: number;
  credentials: EndedCredentialsPruneRun;
}

/**
 * The usage worker's housekeeping, run by a BullMQ job scheduler (no cron outside the
 * queue; one run at a time across every worker process):
 *  - request-log partitions: creates the next days' (the insert path never runs DDL),
 *    moves rows out of the DEFAULT partitions into days of their own, drops the days
 *    past each environment's longest retention window;
 *  - per-organisation retention: deletes, in batches, rows past an organisation's
 *    own window where the partitions outlive it;
 *  - prunes minute and hour counters, forgotten batch ids and settled reminders;
 *  - prunes relayed outbox rows, finished webhook deliveries, and sessions and
 *    mailed tokens that ended.
 * Every step is bounded and idempotent; what a run leaves, the next one finishes.
 */
@Injectable()
export class UsageMaintenanceProcessor extends WorkerHost<MaintenanceJobData, MaintenanceRun> {
  constructor(
    config: AppConfig,
    private readonly partitions: RequestLogPartitionsService,
    private readonly retention: RequestLogRetentionService,
    private readonly usageHistory: UsageHistoryPruner,
    private readonly reminders: SentRemindersPruner,
    private readonly outbox: OutboxPruner,
    private readonly webhookDeliveries: WebhookDeliveriesPruner,
    private readonly credentials: EndedCredentialsPruner,
  ) {
    // The scheduler's first run comes at once and creates the days ahead; it does not hold up
    // the boot, and until the days exist their checks wait in the DEFAULT partition.
    super(config, {
      queue: USAGE_MAINTENANCE_QUEUE,
      jobLabel: 'usage maintenance',
      concurrency: 1,
      closeDeadlineMs: CLOSE_DEADLINE_MS,
      schedule: { everyMs: MAINTENANCE_EVERY_MS, jobName: USAGE_MAINTENANCE_JOB },
    });
  }

  /** Adds a maintenance run now (tests, operators); the scheduler adds the regular ones. */
  runNow(now?: Date): Promise<Job<MaintenanceJobData>> {
    return this.addScheduledJob(now ? { now: now.toISOString() } : {});
  }

  async process(job: Job<MaintenanceJobData>): Promise<MaintenanceRun> {
    const now = job.data.now ? new Date(job.data.now) : new Date();
    const windows = await this.retention.windows();
    const created = [...(await this.partitions.ensureAhead(now)), ...(await this.partitions.adoptStrayRows(windows, now))];
    const dropped = await this.partitions.dropPast(windows, now);
    const orgRows = await this.retention.deleteRowsPastOrgWindows(windows, now);
    const strayRowsDeleted = await this.retention.deleteStrayRowsPastWindows(windows, now);
    const usage = await this.usageHistory.prune(now);
    const reminders = await this.reminders.prune(now);
    const outboxEvents = (await this.outbox.prune(now)).deleted;
    const webhookDeliveries = (await this.webhookDeliveries.prune(now)).deleted;
    const credentials = await this.credentials.prune(now);
    return {
      windows,
      created,
      dropped,
      orgRowsDeleted: orgRows.deleted,
      strayRowsDeleted,
      usage,
      reminders,
      outboxEvents,
      webhookDeliveries,
      credentials,
    };
  }
}
