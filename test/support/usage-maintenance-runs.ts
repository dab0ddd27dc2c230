import { Job, Queue } from 'bullmq';

import { SentRemindersPruner } from '../../apps/usage-worker/src/reminders/sent-reminders-pruner.service';
import { EndedCredentialsPruner } from '../../apps/usage-worker/src/retention/ended-credentials-pruner.service';
import { OutboxPruner } from '../../apps/usage-worker/src/retention/outbox-pruner.service';
import { WebhookDeliveriesPruner } from '../../apps/usage-worker/src/retention/webhook-deliveries-pruner.service';
import { RequestLogPartitionsService } from '../../apps/usage-worker/src/usage-events/request-log-partitions.service';
import { RequestLogRetentionService } from '../../apps/usage-worker/src/usage-events/request-log-retention.service';
import { UsageHistoryPruner } from '../../apps/usage-worker/src/usage-events/usage-history-pruner.service';
import {
  MaintenanceRun,
  USAGE_MAINTENANCE_QUEUE,
  UsageMaintenanceProcessor,
} from '../../apps/usage-worker/src/usage-events/usage-maintenance.processor';
import { ServiceHarness } from './service-harness';
import { waitUntil } from './wait-until';

/** The usage worker's maintenance job and every step it runs, for ServiceHarness.start({ providers }). */
export const USAGE_MAINTENANCE_PROVIDERS = [
  EndedCredentialsPruner,
  OutboxPruner,
  RequestLogPartitionsService,
  RequestLogRetentionService,
  SentRemindersPruner,
  UsageHistoryPruner,
  UsageMaintenanceProcessor,
  WebhookDeliveriesPruner,
];

/**
 * Runs the maintenance job on demand through its queue, with the harness's worker, and
 * answers what the run did. The job scheduler's own first run starts with the harness;
 * `start` waits for it to finish, so a test's counts are its own run's.
 */
export class UsageMaintenanceRuns {
  private constructor(
    private readonly processor: UsageMaintenanceProcessor,
    private readonly queue: Queue,
  ) {}

  static async start(harness: ServiceHarness): Promise<UsageMaintenanceRuns> {
    const runs = new UsageMaintenanceRuns(harness.get(UsageMaintenanceProcessor), harness.queue(USAGE_MAINTENANCE_QUEUE));
    let counts: Record<string, number> = {};
    await waitUntil(
      async () => {
        counts = await runs.queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'prioritized');
        return counts.completed + counts.failed > 0 && counts.active + counts.waiting + counts.prioritized === 0;
      },
      15_000,
      () => `the scheduled maintenance run to finish: ${JSON.stringify(counts)}`,
    );
    return runs;
  }

  /** One run as of `now`, through the queue; its result, or its failure thrown. */
  async run(now: Date): Promise<MaintenanceRun> {
    const added = await this.processor.runNow(now);
    let job: Job | undefined;
    await waitUntil(
      async () => {
        job = await this.queue.getJob(added.id!);
        return job?.finishedOn !== undefined;
      },
      30_000,
      'the maintenance run to finish',
    );
    if (job!.failedReason) throw new Error(`maintenance run failed: ${job!.failedReason}`);
    return job!.returnvalue as MaintenanceRun;
  }
}
