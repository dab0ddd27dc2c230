import { Module } from '@nestjs/common';

import { ClockModule } from '../reminders/clock.module';
import { AlertRecorder } from './alert-recorder.service';
import { AnomalyDetector } from './anomaly-detector.service';

/**
 * Anomaly alerts (docs/api-conventions.md#usage-logs-and-alerts). Exports
 * AnomalyDetector for the usage consumer, which calls `observe(events)` once per
 * counted batch.
 */
@Module({ imports: [ClockModule], providers: [AlertRecorder, AnomalyDetector], exports: [AnomalyDetector] })
export class AnomaliesModule {}
