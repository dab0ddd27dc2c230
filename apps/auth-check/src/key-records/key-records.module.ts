import { Module } from '@nestjs/common';

import { KeyChangeSubscriber } from './key-change.subscriber';
import { KeyRecordCache } from './key-record.cache';
import { KeyRecordRepository } from './key-record.repository';
import { KeyRecordsService } from './key-records.service';

/** Key records for the checks: cache, invalidation, and the lookup fallbacks. */
@Module({
  providers: [KeyChangeSubscriber, KeyRecordCache, KeyRecordRepository, KeyRecordsService],
  exports: [KeyRecordCache, KeyRecordsService],
})
export class KeyRecordsModule {}
