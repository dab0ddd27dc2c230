import { messageContract, MessageOf } from '../message-contract';

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
 * What auth-check needs to judge a presented key, over `keys.lookup` and `keys.get`.
 * Never a secret in clear: the signing secrets travel sealed (AES-256-GCM under
 * ENCRYPTION_KEY, which auth-check opens), and the secret hashes not at all.
 */
export interface KeyRecord {
  id: string;
  /** Its display name and the holder's id the org gave it (owner_id): a pass tells the caller both. */
  name: string;
  owner_id: string | null;
  org_id: string;
  environment: 'test' | 'live';
  status: 'active' | 'disabled' | 'expired' | 'revoked';
  expires_at: string | null;
  disabled_at: string | null;
  revoked_at: string | null;
  permissions: string[];
  restrictions: {
    ip_allowlist: string[];
    referrers: string[];
    endpoints: { method: string; path: string }[];
  };
  rate_limit: { limit: number; window_seconds: number } | null;
  quota: { limit: number; period: 'day' | 'month' | 'total' } | null;
  metadata: Record<string, unknown>;
  signing: boolean;
  public_key: string | null;
  signing_secret_sealed: string | null;
  previous_signing_secret_sealed: string | null;
  /** Until then the secret (and signing secret) from before the last roll still passes. */
  previous_secret_expires_at: string | null;
  /** On a lookup by secret_hash: whether it matched the current secret or the previous one (within its grace). */
  matched?: 'current' | 'previous';
}
