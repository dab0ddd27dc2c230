/**
 * The verdict codes of a key check (docs/api-conventions.md#checks). Callers branch
 * on them and usage statistics count by them: DO NOT RENAME a shipped code.
 */
export const VerifyCode = {
  Valid: 'VALID',
  Malformed: 'MALFORMED',
  NotFound: 'NOT_FOUND',
  Disabled: 'DISABLED',
  Expired: 'EXPIRED',
  Revoked: 'REVOKED',
  WrongEnvironment: 'WRONG_ENVIRONMENT',
  IpNotAllowed: 'IP_NOT_ALLOWED',
  ReferrerNotAllowed: 'REFERRER_NOT_ALLOWED',
  EndpointNotAllowed: 'ENDPOINT_NOT_ALLOWED',
  InsufficientPermissions: 'INSUFFICIENT_PERMISSIONS',
  RateLimited: 'RATE_LIMITED',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  InvalidSignature: 'INVALID_SIGNATURE',
} as const;
export type VerifyCode = (typeof VerifyCode)[keyof typeof VerifyCode];

export const VERIFY_CODES: readonly VerifyCode[] = Object.values(VerifyCode);

/** Redis-transport pattern served by auth-check (same body and answer as POST /v1/verify). */
export const AuthCheckPattern = {
  VerifyKey: 'auth.verify',
} as const;
export type AuthCheckPattern = (typeof AuthCheckPattern)[keyof typeof AuthCheckPattern];
