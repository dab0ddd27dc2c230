import { Module } from '@nestjs/common';

import { UsageReportsController } from './usage-reports.controller';
import { UsageReportsService } from './usage-reports.service';

/**
 * Read side of usage metering (docs/api-conventions.md#usage-logs-and-alerts); the usage worker
 * writes what it reads.
 */
@Module({ controllers: [UsageReportsController], providers: [UsageReportsService] })
export class UsageReportsModule {}
