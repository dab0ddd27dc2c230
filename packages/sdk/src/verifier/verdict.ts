import type { components } from '../generated/openapi';

type VerdictSchema = components['schemas']['KeyVerdictResponseDto'];

/** Why a key passes (VALID) or is refused (docs/api-conventions.md#checks). */
export type VerifyCode = VerdictSchema['code'];

export interface RateLimitState {
  limit: number;
  remaining: number;
  reset_at: string;
}

export interface QuotaState {
  remaining: number;
  /**
   * When the current UTC day or month ends and the quota refills; null for a total quota or
   * while degraded; absent from servers before it.
   */
  reset_at?: string | null;
}

/** A passing key: whose it is and what it carries. */
export interface PassingVerdict {
  valid: true;
  code: 'VALID';
  key_id: string;
  org_id: string;
  /** The key's name and its holder as the organisation set it (null when none); absent from servers before them. */
  name?: string;
  owner_id?: string | null;
  environment: 'test' | 'live';
  permissions: string[];
  metadata: Record<string, unknown>;
  rate_limit: RateLimitState | null;
  quota: QuotaState | null;
  /** true when Redis or the key lookup was unavailable and a fallback answered. */
  degraded?: boolean;
  /** true when Latchkey was unreachable and the verifier's outage cache answered a pass it remembered. */
  from_cache?: boolean;
  [field: string]: unknown;
}

/** A refusal says only why; RATE_LIMITED and QUOTA_EXCEEDED add the limits the caller ran into. */
export interface RefusedVerdict {
  valid: false;
  code: Exclude<VerifyCode, 'VALID'>;
  rate_limit?: RateLimitState | null;
  quota?: QuotaState | null;
  degraded?: boolean;
}

/**
 * What `verify({ failOpen: true })` answers when Latchkey could not be asked: a pass that
 * names no key. Only ever returned to a caller that asked for it on that call.
 */
export interface FailedOpenVerdict {
  valid: true;
  code: 'VALID';
  failed_open: true;
  degraded: true;
  /** Why Latchkey could not answer. */
  error: Error;
}

/** The verdict of `POST /v1/verify` (and `auth.verify`), as the SDK answers it. */
export type Verdict = PassingVerdict | RefusedVerdict;

/** The body of `POST /v1/verify` and the payload of `auth.verify`. */
export interface VerifyRequestBody {
  key: string;
  environment?: 'test' | 'live';
  permissions?: string[];
  ip?: string;
  referrer?: string;
  method?: string;
  path?: string;
  cost?: number;
  signature?: { timestamp: number; value: string; body_sha256: string };
}
