import { messageContract, MessageOf } from '../message-contract';

/**
 * The longest request path a check judges, in a verify body or a forwarded URI
 * (without its query): matching costs time in proportion to it.
 */
export const MAX_CHECKED_PATH_LENGTH = 4096;

/**
 * The body of `POST /v1/verify` and the `auth.verify` message
 * (docs/api-conventions.md#checks): one contract, so both doors refuse the same
 * things. What a schema cannot say (that `ip` is an address, that text is storable in
 * Postgres) auth-check checks after the shape.
 */
export const VERIFY_KEY_REQUEST = messageContract(
  {
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: {
      key: { type: 'string', maxLength: 200 },
      environment: { type: 'string', enum: ['test', 'live'] },
      permissions: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 200 } },
      ip: { type: 'string', maxLength: 100 },
      referrer: { type: 'string', maxLength: 2048 },
      // An HTTP method is a token (RFC 9110 §5.6.2).
      method: { type: 'string', minLength: 1, maxLength: 16, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
      path: { type: 'string', minLength: 1, maxLength: MAX_CHECKED_PATH_LENGTH },
      cost: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      signature: {
        type: 'object',
        additionalProperties: false,
        required: ['timestamp', 'value', 'body_sha256'],
        properties: {
          timestamp: { type: 'integer', minimum: 0 },
          value: { type: 'string', maxLength: 1024 },
          body_sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
        },
      },
    },
  },
  { method: 'method must be an HTTP method token' },
);
export type VerifyKeyRequest = MessageOf<typeof VERIFY_KEY_REQUEST>;
