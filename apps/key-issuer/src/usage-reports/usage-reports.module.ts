import { Module } from '@nestjs/common';

import { UsageReportsController } from './usage-reports.controller';
import { UsageReportsService } from './usage-reports.service';

/** Read side of usage metering (SPEC §6); the usage worker writes what it reads. */
@Module({ controllers: [UsageReportsController], providers: [UsageReportsService] })
export class UsageReportsModule {}
