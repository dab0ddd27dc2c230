import { Module } from '@nestjs/common';

import { AnomaliesModule } from '../anomalies/anomalies.module';
import { QueueAdminModule } from '../queue-admin/queue-admin.module';
import { RemindersModule } from '../reminders/reminders.module';
import { RetentionModule } from '../retention/retention.module';
import { RecordUsageProcessor } from './record-usage.processor';
import { RequestLogPartitionsService } from './request-log-partitions.service';
import { RequestLogRetentionService } from './request-log-retention.service';
import { UsageHistoryPruner } from './usage-history-pruner.service';
import { UsageLedgerService } from './usage-ledger.service';
import { UsageMaintenanceProcessor } from './usage-maintenance.processor';

/**
 * Usage metering (docs/api-conventions.md#usage-logs-and-alerts): usage batches →
 * exact per-key counters, request logs and last_used_at; and its housekeeping
 * (partitions, retention, pruning; the same job runs RetentionModule's pruners).
 */
@Module({
  // QueueAdminModule belongs to the whole worker; imported here until usage-worker.module.ts lists it.
  imports: [AnomaliesModule, QueueAdminModule, RemindersModule, RetentionModule],
  providers: [
    RecordUsageProcessor,
    RequestLogPartitionsService,
    RequestLogRetentionService,
    UsageHistoryPruner,
    UsageLedgerService,
    UsageMaintenanceProcessor,
  ],
})
export class UsageEventsModule {}
