import { VerifyCode } from '@latchkey/contracts';

export interface RateLimitState {
  limit: number;
  remaining: number;
  reset_at: string;
}

export interface QuotaState {
  remaining: number;
  /** When the current period ends and the quota refills; null for a `total` quota, or while degraded (unknown). */
  reset_at: string | null;
}

/**
 * What a passing check tells its caller (docs/api-conventions.md#checks): the key, whose it is
 * and what it carries.
 */
export interface PassingVerdict {
  valid: true;
  code: typeof VerifyCode.Valid;
  key_id: string;
  /** The key's display name. */
  name: string;
  /** The id of the customer or service holding the key, as the org set it; null when none. */
  owner_id: string | null;
  org_id: string;
  environment: 'test' | 'live';
  permissions: string[];
  metadata: Record<string, unknown>;
  /** Present when the key has a rate limit and Redis could count it (not while degraded). */
  rate_limit: RateLimitState | null;
  quota: QuotaState | null;
  /** Only when true: Redis (rate limit, quota) or the key lookup could not be asked and a fallback answered. */
  degraded?: boolean;
}

/**
 * What a refusal tells its caller: only why (docs/api-conventions.md#checks).
 * Whoever presents a public pk_ identifier, a revoked or someone else's key is not
 * owed the key's id, organisation, permissions or metadata.
 */
export interface RefusedVerdict {
  valid: false;
  code: Exclude<VerifyCode, typeof VerifyCode.Valid>;
  /** Only on RATE_LIMITED and QUOTA_EXCEEDED: the limits the caller ran into (null when not measured). */
  rate_limit?: RateLimitState | null;
  quota?: QuotaState | null;
  degraded?: boolean;
}

/** The answer of a check, the same over HTTP (in the envelope's `data`) and over `auth.verify`. */
export type KeyVerdict = PassingVerdict | RefusedVerdict;

/** Whose key a check judged. */
export interface CheckedKey {
  key_id: string;
  org_id: string;
  environment: 'test' | 'live';
}

/** What a transport needs besides the verdict to set its headers, and what the usage event records. */
export interface KeyCheck {
  verdict: KeyVerdict;
  /**
   * The key that was found, pass or refusal: the usage event and request log count
   * denials per key from it. Never sent to the caller of a refusal.
   */
  key: CheckedKey | null;
  /** Whole seconds until a RATE_LIMITED or QUOTA_EXCEEDED check could pass; null when unknown or not limited. */
  retryAfterSeconds: number | null;
}

/** One check, from whichever transport it came. */
export interface KeyCheckInput {
  key: string;
  environment?: 'test' | 'live';
  permissions?: string[];
  ip: string | null;
  referrer: string | null;
  method: string | null;
  /** With its query string (the signature covers it). */
  path: string | null;
  cost: number;
  /** `t=<unix seconds>,v1=<hex>` as a caller sends it in `x-signature`. */
  signatureHeader: string | null;
  bodySha256: string | null;
}
