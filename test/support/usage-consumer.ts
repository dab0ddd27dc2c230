import { randomBytes } from 'node:crypto';

import { EntityManager } from '@mikro-orm/postgresql';
import { Provider } from '@nestjs/common';
import { Queue } from 'bullmq';

import { ApiKey } from '@latchkey/db';
import { MetricsService, RedisService } from '@latchkey/platform';

import { AlertRecorder } from '../../apps/usage-worker/src/anomalies/alert-recorder.service';
import { AnomalyDetector } from '../../apps/usage-worker/src/anomalies/anomaly-detector.service';
import { Clock } from '../../apps/usage-worker/src/reminders/clock';
import { QuotaWatcher } from '../../apps/usage-worker/src/reminders/quota-watcher.service';
import { SentRemindersPruner } from '../../apps/usage-worker/src/reminders/sent-reminders-pruner.service';
import { EndedCredentialsPruner } from '../../apps/usage-worker/src/retention/ended-credentials-pruner.service';
import { OutboxPruner } from '../../apps/usage-worker/src/retention/outbox-pruner.service';
import { WebhookDeliveriesPruner } from '../../apps/usage-worker/src/retention/webhook-deliveries-pruner.service';
import { RecordUsageProcessor } from '../../apps/usage-worker/src/usage-events/record-usage.processor';
import { RequestLogPartitionsService } from '../../apps/usage-worker/src/usage-events/request-log-partitions.service';
import { RequestLogRetentionService } from '../../apps/usage-worker/src/usage-events/request-log-retention.service';
import { UsageHistoryPruner } from '../../apps/usage-worker/src/usage-events/usage-history-pruner.service';
import { UsageLedgerService } from '../../apps/usage-worker/src/usage-events/usage-ledger.service';
import {
  MaintenanceRun,
  USAGE_MAINTENANCE_QUEUE,
  UsageMaintenanceProcessor,
} from '../../apps/usage-worker/src/usage-events/usage-maintenance.processor';
import { ServiceHarness } from './service-harness';
import { waitUntil } from './wait-until';

/**
 * What the usage consumer (RecordUsageProcessor on the usage queue) needs in a
 * ServiceHarness: the ledger, and the anomaly and quota watchers it tells of each
 * counted batch.
 */
export const USAGE_CONSUMER_PROVIDERS: Provider[] = [
  AlertRecorder,
  AnomalyDetector,
  Clock,
  MetricsService,
  QuotaWatcher,
  RecordUsageProcessor,
  RedisService,
  RequestLogRetentionService,
  UsageLedgerService,
];

/** An API key row of `orgId`, as key-issuer stores one (its secret is never needed here). */
export async function seedApiKey(em: EntityManager, orgId: string, fields: Partial<ApiKey> = {}): Promise<ApiKey> {
  const now = new Date();
  const key = em.create(ApiKey, {
    organization: orgId,
    environment: 'test',
    name: 'metered',
    prefix: 'sk_test_',
    last4: 'wxyz',
    secretHash: randomBytes(32).toString('hex'),
    createdBy: 'usr_test',
    createdAt: now,
    secretRotatedAt: now,
    ...fields,
  });
  await em.flush();
  return key;
}

/** What the usage maintenance job (UsageMaintenanceProcessor) needs in a ServiceHarness besides the consumer's. */
export const USAGE_MAINTENANCE_PROVIDERS: Provider[] = [
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
 * Runs the usage maintenance job on demand through its queue and answers what the run
 * did. The job scheduler's own first run starts with the harness; `start` waits for it
 * to finish, so a test's counts are its own run's.
 */
export class UsageMaintenanceRuns {
  private constructor(
    private readonly harness: ServiceHarness,
    private readonly queue: Queue,
  ) {}

  static async start(harness: ServiceHarness): Promise<UsageMaintenanceRuns> {
    const runs = new UsageMaintenanceRuns(harness, harness.queue(USAGE_MAINTENANCE_QUEUE));
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

  async run(now: Date): Promise<MaintenanceRun> {
    const job = await this.harness.get(UsageMaintenanceProcessor).runNow(now);
    let state = '';
    await waitUntil(
      async () => ['completed', 'failed'].includes((state = await this.queue.getJobState(job.id!))),
      30_000,
      () => `maintenance run ${job.id}: ${state}`,
    );
    const finished = await this.queue.getJob(job.id!);
    if (state !== 'completed') throw new Error(`maintenance run ${job.id} failed: ${finished?.failedReason}`);
    return finished!.returnvalue as MaintenanceRun;
  }
}
