import { Module } from '@nestjs/common';

import { KeyLookupService } from './key-lookup.service';
import { KeysRpcController } from './keys.rpc.controller';

/** `keys.lookup` and `keys.get` over the Redis transport (docs/architecture.md#who-owns-what). */
@Module({ controllers: [KeysRpcController], providers: [KeyLookupService], exports: [KeyLookupService] })
export class KeyLookupModule {}
