import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import { GetKeyRequest, KeyRecord, KeysPattern, LookupKeyRequest } from '@latchkey/contracts';

import { KeyLookupService } from './key-lookup.service';

/**
 * key-issuer over the Redis transport, for auth-check. Payloads are checked by the
 * global ValidationPipe (VALIDATION_FAILED), errors leave through the
 * AllExceptionsFilter as `{code, message}`. Replies never carry a secret hash.
 */
@Controller()
export class KeysRpcController {
  constructor(private readonly lookup: KeyLookupService) {}

  @MessagePattern(KeysPattern.Lookup)
  async lookupKey(@Payload() request: LookupKeyRequest): Promise<KeyRecord> {
    if (request.secret_hash !== undefined) return this.lookup.bySecretHash(request.secret_hash);
    return this.lookup.byPublicKey(request.public_key as string);
  }

  @MessagePattern(KeysPattern.Get)
  async getKey(@Payload() request: GetKeyRequest): Promise<KeyRecord> {
    return this.lookup.byId(request.key_id);
  }
}
