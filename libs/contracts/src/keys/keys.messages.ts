import { messageContract, MessageOf } from '../message-contract';
import {
  ENVIRONMENT,
  KEY_QUOTA,
  KEY_RATE_LIMIT,
  KEY_RESTRICTIONS,
  KEY_STATUS,
  NULLABLE_STRING,
  NULLABLE_TIMESTAMP,
} from './key-schema-parts';

const KEY_ID = '^key_[0-9A-HJKMNP-TV-Z]{26}$';
/** HMAC-SHA-256 of a presented secret, lower-case hex. */
const SECRET_HASH = '^[0-9a-f]{64}$';
/** `pk_{env}_` + 32 base62 characters + 6 checksum characters (docs/api-conventions.md#api-keys). */
const PUBLIC_KEY = '^pk_(test|live)_[0-9A-Za-z]{38}$';

/**
 * `keys.lookup`: auth-check's cache miss. Exactly one of the presented secret's
 * HMAC (never the secret itself) or a signing key's public identifier. Checked by a
 * compiled schema rather than a class-validator DTO: a lookup runs on every cache
 * miss of every auth-check (docs/decisions/0005-compiled-schemas-on-the-hot-path.md).
 */
export const LOOKUP_KEY_REQUEST = messageContract(
  {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    properties: {
      secret_hash: { type: 'string', pattern: SECRET_HASH },
      public_key: { type: 'string', pattern: PUBLIC_KEY },
    },
  },
  {
    body: 'send exactly one of secret_hash, public_key',
    secret_hash: 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)',
    public_key: 'public_key must be a pk_test_ or pk_live_ key',
  },
);
export type LookupKeyRequest = MessageOf<typeof LOOKUP_KEY_REQUEST>;

/** `keys.get`: one key by id. */
export const GET_KEY_REQUEST = messageContract(
  {
    type: 'object',
    additionalProperties: false,
    required: ['key_id'],
    properties: { key_id: { type: 'string', pattern: KEY_ID } },
  },
  { key_id: 'key_id must be a key_ id' },
);
export type GetKeyRequest = MessageOf<typeof GET_KEY_REQUEST>;

/**
 * The reply of `keys.lookup` and `keys.get`: what auth-check needs to judge a presented
 * key. Never a secret in clear: the signing secrets travel sealed (AES-256-GCM under
 * ENCRYPTION_KEY, which auth-check opens), and the secret hashes not at all. An unknown
 * key is not a reply but a NOT_FOUND refusal (an RpcErrorReply). Not checked by its
 * receiver (a cache miss is the hot path): the schema is the type's source, and
 * key-issuer's keys.rpc.controller.int-spec.ts checks the real answers against it.
 */
export const KEY_RECORD_REPLY = messageContract({
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'owner_id',
    'org_id',
    'environment',
    'status',
    'expires_at',
    'disabled_at',
    'revoked_at',
    'permissions',
    'restrictions',
    'rate_limit',
    'quota',
    'metadata',
    'signing',
    'public_key',
    'signing_secret_sealed',
    'previous_signing_secret_sealed',
    'previous_secret_expires_at',
  ],
  properties: {
    id: { type: 'string', pattern: KEY_ID },
    /** Its display name and the holder's id the org gave it (owner_id): a pass tells the caller both. */
    name: { type: 'string' },
    owner_id: NULLABLE_STRING,
    org_id: { type: 'string' },
    environment: ENVIRONMENT,
    status: KEY_STATUS,
    expires_at: NULLABLE_TIMESTAMP,
    disabled_at: NULLABLE_TIMESTAMP,
    revoked_at: NULLABLE_TIMESTAMP,
    permissions: { type: 'array', items: { type: 'string' } },
    restrictions: KEY_RESTRICTIONS,
    rate_limit: KEY_RATE_LIMIT,
    quota: KEY_QUOTA,
    metadata: { type: 'object' },
    signing: { type: 'boolean' },
    public_key: { type: 'string', pattern: PUBLIC_KEY, nullable: true },
    signing_secret_sealed: NULLABLE_STRING,
    previous_signing_secret_sealed: NULLABLE_STRING,
    /** Until then the secret (and signing secret) from before the last roll still passes. */
    previous_secret_expires_at: NULLABLE_TIMESTAMP,
    /** On a lookup by secret_hash: whether it matched the current secret or the previous one (within its grace). */
    matched: { type: 'string', enum: ['current', 'previous'] },
  },
});
export type KeyRecord = MessageOf<typeof KEY_RECORD_REPLY>;

/**
 * What key-issuer publishes on KEY_CHANGED_CHANNEL after every change to a key, so each
 * auth-check drops its cached copy at once. Its subscriber checks each notice against
 * this contract and ignores one that does not match.
 */
export const KEY_CHANGED_NOTICE = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'org_id', 'secret_hashes', 'public_key', 'change'],
  properties: {
    key_id: { type: 'string', pattern: KEY_ID },
    org_id: { type: 'string' },
    /** HMACs of the secrets this key answered to before the change (cache keys). */
    secret_hashes: { type: 'array', items: { type: 'string', pattern: SECRET_HASH } },
    public_key: { type: 'string', pattern: PUBLIC_KEY, nullable: true },
    change: { type: 'string', enum: ['created', 'updated', 'rolled', 'disabled', 'enabled', 'revoked', 'deleted'] },
  },
});
export type KeyChangedNotice = MessageOf<typeof KEY_CHANGED_NOTICE>;
