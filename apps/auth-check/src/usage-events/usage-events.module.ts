import { Module } from '@nestjs/common';

import { UsageEventBuffer } from './usage-event-buffer.service';

/** Usage events of every check, batched onto USAGE_QUEUE (needs the global AppConfig and MetricsService). */
@Module({ providers: [UsageEventBuffer], exports: [UsageEventBuffer] })
export class UsageEventsModule {}
