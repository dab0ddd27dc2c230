import { Module } from '@nestjs/common';

import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

/**
 * Anomaly alerts (docs/api-conventions.md#usage-logs-and-alerts): listed and acknowledged here;
 * raised by usage-worker.
 */
@Module({ controllers: [AlertsController], providers: [AlertsService] })
export class AlertsModule {}
