import { Module } from '@nestjs/common';

import { KeyLookupService } from './key-lookup.service';
import { KeysRpcController } from './keys.rpc.controller';

/** `keys.lookup` and `keys.get` over the Redis transport (SPEC §9). */
@Module({ controllers: [KeysRpcController], providers: [KeyLookupService], exports: [KeyLookupService] })
export class KeyLookupModule {}
