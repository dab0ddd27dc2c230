import {
  GET_KEY_REQUEST_MESSAGES,
  GET_KEY_REQUEST_SCHEMA,
  GetKeyRequest,
  LOOKUP_KEY_REQUEST_MESSAGES,
  LOOKUP_KEY_REQUEST_SCHEMA,
  LookupKeyRequest,
} from '@latchkey/contracts';
import { jsonSchemaParser } from '@latchkey/platform';

/** `keys.lookup`'s payload, or VALIDATION_FAILED. */
export const parseLookupKeyRequest = jsonSchemaParser<LookupKeyRequest>(LOOKUP_KEY_REQUEST_SCHEMA, LOOKUP_KEY_REQUEST_MESSAGES);

/** `keys.get`'s payload, or VALIDATION_FAILED. */
export const parseGetKeyRequest = jsonSchemaParser<GetKeyRequest>(GET_KEY_REQUEST_SCHEMA, GET_KEY_REQUEST_MESSAGES);
