import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import { KeyRecord, KeysPattern } from '@latchkey/contracts';

import { parseGetKeyRequest, parseLookupKeyRequest } from './key-lookup.payloads';
import { KeyLookupService } from './key-lookup.service';

/**
 * key-issuer over the Redis transport, for auth-check. Payloads are typed `unknown`
 * so the global ValidationPipe passes them through, and are checked by compiled JSON
 * schemas (a lookup runs on every cache miss): VALIDATION_FAILED, as the pipe would
 * answer. Errors leave through the AllExceptionsFilter as `{code, message}`. Replies
 * never carry a secret hash.
 */
@Controller()
export class KeysRpcController {
  constructor(private readonly lookup: KeyLookupService) {}

  @MessagePattern(KeysPattern.Lookup)
  async lookupKey(@Payload() payload: unknown): Promise<KeyRecord> {
    const request = parseLookupKeyRequest(payload);
    if (request.secret_hash !== undefined) return this.lookup.bySecretHash(request.secret_hash);
    return this.lookup.byPublicKey(request.public_key);
  }

  @MessagePattern(KeysPattern.Get)
  async getKey(@Payload() payload: unknown): Promise<KeyRecord> {
    return this.lookup.byId(parseGetKeyRequest(payload).key_id);
  }
}
