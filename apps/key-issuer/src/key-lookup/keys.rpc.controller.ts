import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import {
  GET_KEY_REQUEST_MESSAGES,
  GET_KEY_REQUEST_SCHEMA,
  GetKeyRequest,
  KeyRecord,
  KeysPattern,
  LOOKUP_KEY_REQUEST_MESSAGES,
  LOOKUP_KEY_REQUEST_SCHEMA,
  LookupKeyRequest,
} from '@latchkey/contracts';
import { jsonSchemaParser } from '@latchkey/platform';

import { KeyLookupService } from './key-lookup.service';

const parseLookupKeyRequest = jsonSchemaParser<LookupKeyRequest>(LOOKUP_KEY_REQUEST_SCHEMA, LOOKUP_KEY_REQUEST_MESSAGES);
const parseGetKeyRequest = jsonSchemaParser<GetKeyRequest>(GET_KEY_REQUEST_SCHEMA, GET_KEY_REQUEST_MESSAGES);

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
