import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';

import { GET_KEY_REQUEST, GetKeyRequest, KeyRecord, KeysPattern, LOOKUP_KEY_REQUEST, LookupKeyRequest } from '@latchkey/contracts';
import { MessagePayload } from '@latchkey/platform';

import { KeyLookupService } from './key-lookup.service';

/**
 * key-issuer over the Redis transport, for auth-check. Each payload is checked against
 * its contract's compiled schema (a lookup runs on every cache miss): VALIDATION_FAILED
 * otherwise. Errors leave through the AllExceptionsFilter as an RpcErrorReply.
 * Replies never carry a secret hash.
 */
@Controller()
export class KeysRpcController {
  constructor(private readonly lookup: KeyLookupService) {}

  @MessagePattern(KeysPattern.Lookup)
  async lookupKey(@MessagePayload(LOOKUP_KEY_REQUEST) request: LookupKeyRequest): Promise<KeyRecord> {
    if (request.secret_hash !== undefined) return this.lookup.bySecretHash(request.secret_hash);
    return this.lookup.byPublicKey(request.public_key);
  }

  @MessagePattern(KeysPattern.Get)
  async getKey(@MessagePayload(GET_KEY_REQUEST) request: GetKeyRequest): Promise<KeyRecord> {
    return this.lookup.byId(request.key_id);
  }
}
