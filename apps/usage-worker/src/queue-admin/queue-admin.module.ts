import { Module } from '@nestjs/common';

import { QueueAdminService } from './queue-admin.service';

/** Bull Board at /admin/queues (operator token), queue depth gauges, Redis durability warning at start. */
@Module({ providers: [QueueAdminService], exports: [QueueAdminService] })
export class QueueAdminModule {}
