import {
  IsDefined,
  IsString,
  Matches,
  ValidateIf,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

const KEY_ID = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;
/** HMAC-SHA-256 of a presented secret, lower-case hex. */
const SECRET_HASH = /^[0-9a-f]{64}$/;
/** `pk_{env}_` + 32 base62 characters + 6 checksum characters (SPEC §4). */
const PUBLIC_KEY = /^pk_(test|live)_[0-9A-Za-z]{38}$/;

@ValidatorConstraint({ name: 'exactlyOneOf' })
class ExactlyOneOfConstraint implements ValidatorConstraintInterface {
  validate(_: unknown, args: ValidationArguments): boolean {
    const object = args.object as Record<string, unknown>;
    return (args.constraints as string[]).filter((field) => object[field] !== undefined).length === 1;
  }

  defaultMessage(args: ValidationArguments): string {
    return `send exactly one of ${(args.constraints as string[]).join(', ')}`;
  }
}

/**
 * `keys.lookup`: auth-check's cache miss. Exactly one of the presented secret's
 * HMAC (never the secret itself) or a signing key's public identifier.
 */
export class LookupKeyRequest {
  @ValidateIf((request: LookupKeyRequest) => request.secret_hash !== undefined || request.public_key === undefined)
  @IsDefined({ message: 'send exactly one of secret_hash, public_key' })
  @IsString()
  @Matches(SECRET_HASH, { message: 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)' })
  @Validate(ExactlyOneOfConstraint, ['secret_hash', 'public_key'])
  secret_hash?: string;

  @ValidateIf((request: LookupKeyRequest) => request.public_key !== undefined)
  @IsString()
  @Matches(PUBLIC_KEY, { message: 'public_key must be a pk_test_ or pk_live_ key' })
  public_key?: string;
}

/** `keys.get`: one key by id. */
export class GetKeyRequest {
  @IsString()
  @Matches(KEY_ID, { message: 'key_id must be a key_ id' })
  key_id!: string;
}

/**
 * What auth-check needs to judge a presented key, over `keys.lookup` and `keys.get`.
 * Never a secret in clear: the signing secrets travel sealed (AES-256-GCM under
 * ENCRYPTION_KEY, which auth-check opens), and the secret hashes not at all.
 */
export interface KeyRecord {
  id: string;
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
