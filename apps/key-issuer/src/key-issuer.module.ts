import { Module } from '@nestjs/common';

import { ApiKeysModule } from './api-keys/api-keys.module';
import { KeyLookupModule } from './key-lookup/key-lookup.module';
import { UsageReportsModule } from './usage-reports/usage-reports.module';

/**
 * The key-issuer service: the key lifecycle (REST) and `keys.*` over the Redis transport.
 */
@Module({ imports: [ApiKeysModule, KeyLookupModule, UsageReportsModule] })
export class KeyIssuerModule {}
