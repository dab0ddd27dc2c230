import { Module } from '@nestjs/common';

import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

/** Anomaly alerts (SPEC §6): listed and acknowledged here; raised by usage-worker. */
@Module({ controllers: [AlertsController], providers: [AlertsService] })
export class AlertsModule {}
