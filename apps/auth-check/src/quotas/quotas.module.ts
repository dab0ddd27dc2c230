import { Module } from '@nestjs/common';

import { QuotaLedgerService } from './quota-ledger.service';

/** Per-key quotas by UTC day, month or in total (needs the global AppConfig and RedisService). */
@Module({ providers: [QuotaLedgerService], exports: [QuotaLedgerService] })
export class QuotasModule {}
