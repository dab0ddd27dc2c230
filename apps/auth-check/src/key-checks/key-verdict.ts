import { VerifyCode } from '@latchkey/contracts';

/** The answer of a check (SPEC §5), the same over HTTP (in the envelope's `data`) and over `auth.verify`. */
export interface KeyVerdict {
  valid: boolean;
  code: VerifyCode;
  key_id: string | null;
  org_id: string | null;
  environment: 'test' | 'live' | null;
  permissions: string[];
  metadata: Record<string, unknown> | null;
  /** Present when the key has a rate limit, the check got as far as it and Redis could count it (not while degraded). */
  rate_limit: { limit: number; remaining: number; reset_at: string } | null;
  quota: { remaining: number } | null;
  /** Only when true: Redis (rate limit, quota) or the key lookup could not be asked and a fallback answered. */
  degraded?: boolean;
}

/** What a transport needs besides the verdict to set its headers. */
export interface KeyCheck {
  verdict: KeyVerdict;
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
