import { VerifyCode } from '../auth-check/verify-codes';

/**
 * What went wrong, in terms every transport maps: the HTTP filter answers a kind's
 * status, the RPC filter sends the kind along with the code.
 */
export const ErrorKind = {
  Validation: 'validation',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  /** The request did not arrive in full before the server stopped waiting. */
  RequestTimeout: 'request_timeout',
  Conflict: 'conflict',
  PayloadTooLarge: 'payload_too_large',
  /** A path parameter longer than the router reads (Fastify's maxParamLength). */
  UriTooLong: 'uri_too_long',
  UnsupportedMediaType: 'unsupported_media_type',
  RateLimited: 'rate_limited',
  HeadersTooLarge: 'headers_too_large',
  /** A fault on our side: the client is told only the request id. */
  Internal: 'internal',
  Unavailable: 'unavailable',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** The one mapping from kind to HTTP status, for the server and for any client. */
export const STATUS_FOR_KIND = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<ErrorKind, number>;

export interface ErrorCodeEntry {
  readonly kind: ErrorKind;
  /** Always STATUS_FOR_KIND[kind]; written out so the table reads as the client sees it. */
  readonly status: number;
  /** When a client gets it: the line docs/api-conventions.md shows. */
  readonly description: string;
}

/**
 * Every code an error answer can carry, over HTTP (`error.code` of the envelope) or the
 * Redis transport (`code` of the reply). Clients branch on these: DO NOT RENAME a shipped
 * code, and give a new situation a new code rather than reusing one with another kind.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: {
    kind: 'validation',
    status: 400,
    description: 'A field, query parameter or header is missing or invalid; `details` names each one.',
  },
  INVALID_JSON: { kind: 'validation', status: 400, description: 'The body is not valid JSON.' },
  INVALID_URL: { kind: 'validation', status: 400, description: 'The URL is not valid percent-encoded UTF-8.' },
  MALFORMED_REQUEST: { kind: 'validation', status: 400, description: 'The request is not a well-formed HTTP message.' },
  UNAUTHENTICATED: { kind: 'unauthenticated', status: 401, description: 'Credentials are missing, wrong or expired.' },
  FORBIDDEN: { kind: 'forbidden', status: 403, description: 'The caller may not do this.' },
  INSUFFICIENT_ROLE: { kind: 'forbidden', status: 403, description: "The member's role does not allow this action." },
  SESSION_REQUIRED: {
    kind: 'forbidden',
    status: 403,
    description: 'A management key called a route that only a person’s session may call.',
  },
  MANAGEMENT_KEY_IP_NOT_ALLOWED: { kind: 'forbidden', status: 403, description: 'The management key may not be used from this address.' },
  LIVE_MODE_NOT_ENABLED: {
    kind: 'forbidden',
    status: 403,
    description: 'A live key was asked for before a platform operator approved live access.',
  },
  NO_ORGANIZATION: { kind: 'forbidden', status: 403, description: 'The account belongs to no organisation any more.' },
  EMAIL_NOT_VERIFIED: { kind: 'forbidden', status: 403, description: 'The email address must be verified first.' },
  INVITATION_EMAIL_MISMATCH: { kind: 'forbidden', status: 403, description: 'The invitation was sent to another address.' },
  CSRF_TOKEN_INVALID: {
    kind: 'forbidden',
    status: 403,
    description: 'A write signed in by the session cookie lacks the X-CSRF-Token header or sent a wrong one.',
  },
  NOT_FOUND: {
    kind: 'not_found',
    status: 404,
    description: "No such route or resource, also for another tenant's ids (existence is never leaked).",
  },
  REQUEST_TIMEOUT: { kind: 'request_timeout', status: 408, description: 'The request was not received in time.' },
  CONFLICT: {
    kind: 'conflict',
    status: 409,
    description: 'Something created or changed at the same moment won; retrying may succeed.',
  },
  EMAIL_TAKEN: { kind: 'conflict', status: 409, description: 'An account with this email address exists.' },
  EMAIL_ALREADY_VERIFIED: { kind: 'conflict', status: 409, description: 'The email address is verified already.' },
  ALREADY_MEMBER: { kind: 'conflict', status: 409, description: 'The user is a member of the organisation already.' },
  ALREADY_INVITED: { kind: 'conflict', status: 409, description: 'The address has a pending invitation; resend it instead.' },
  INVITATION_CLOSED: { kind: 'conflict', status: 409, description: 'The invitation was accepted, declined, revoked or expired.' },
  LAST_OWNER: { kind: 'conflict', status: 409, description: 'The last owner cannot be demoted, removed or leave.' },
  KEY_REVOKED: { kind: 'conflict', status: 409, description: 'A revoked key cannot be changed.' },
  LIVE_ACCESS_ALREADY_APPROVED: { kind: 'conflict', status: 409, description: 'Live access is approved already.' },
  LIVE_ACCESS_NOT_REQUESTED: { kind: 'conflict', status: 409, description: 'The organisation has not requested live access.' },
  WEBHOOK_ENDPOINT_LIMIT_REACHED: {
    kind: 'conflict',
    status: 409,
    description: 'The environment has the most webhook endpoints allowed.',
  },
  WEBHOOK_ENDPOINT_DISABLED: { kind: 'conflict', status: 409, description: 'The webhook endpoint is disabled; enable it first.' },
  IDEMPOTENCY_KEY_REUSED: {
    kind: 'conflict',
    status: 409,
    description: 'The Idempotency-Key was used with a different request.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    kind: 'conflict',
    status: 409,
    description: 'A request with this Idempotency-Key is still being answered.',
  },
  PAYLOAD_TOO_LARGE: { kind: 'payload_too_large', status: 413, description: 'The body is larger than 1 MiB.' },
  URI_TOO_LONG: { kind: 'uri_too_long', status: 414, description: 'A path parameter is longer than any route takes.' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'unsupported_media_type', status: 415, description: 'The body is not application/json.' },
  RATE_LIMITED: { kind: 'rate_limited', status: 429, description: 'Too many requests; wait `Retry-After` seconds.' },
  ACCOUNT_LOCKED: {
    kind: 'rate_limited',
    status: 429,
    description: 'Too many failed logins for this account; wait `Retry-After` seconds.',
  },
  TOO_MANY_LOGIN_ATTEMPTS: {
    kind: 'rate_limited',
    status: 429,
    description: 'Too many failed logins from this address; wait `Retry-After` seconds.',
  },
  TOO_MANY_REQUESTS: {
    kind: 'rate_limited',
    status: 429,
    description: 'Too many signups, password resets, verification mails or invitations for now; wait `Retry-After` seconds.',
  },
  HEADERS_TOO_LARGE: { kind: 'headers_too_large', status: 431, description: 'The request headers are larger than the server reads.' },
  INTERNAL_ERROR: {
    kind: 'internal',
    status: 500,
    description: 'A fault on our side; quote the `request_id` when reporting it.',
  },
  SERVICE_UNAVAILABLE: {
    kind: 'unavailable',
    status: 503,
    description: 'A dependency (Postgres, Redis, a queue, another service) is down; retry after `Retry-After`.',
  },
  UPSTREAM_TIMEOUT: { kind: 'unavailable', status: 503, description: 'Another Latchkey service did not answer in time.' },
  KEY_LOOKUP_UNAVAILABLE: {
    kind: 'unavailable',
    status: 503,
    description: 'A key not in the cache could not be looked up (key service and Postgres both unreachable).',
  },
} as const satisfies Record<string, ErrorCodeEntry>;
export type ErrorCode = keyof typeof ErrorCodes;

/** The codes of one kind, so a helper such as `AppError.conflict` takes only conflicts. */
export type ErrorCodeOfKind<K extends ErrorKind> = {
  [C in ErrorCode]: (typeof ErrorCodes)[C]['kind'] extends K ? C : never;
}[ErrorCode];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}

export type CheckRefusalCode = Exclude<VerifyCode, typeof VerifyCode.Valid>;

/**
 * How `GET /v1/check` answers a refused key: the verdict code is the envelope's code, with
 * the status a gateway acts on. A table of its own because these are verdicts (the same
 * codes `POST /v1/verify` answers with 200), and NOT_FOUND means an unknown key there,
 * which is "who are you?" (401), not a missing resource (404).
 */
export const CheckRefusals = {
  MALFORMED: { kind: 'unauthenticated', status: 401, description: 'No key was presented, or not one Latchkey issues.' },
  NOT_FOUND: { kind: 'unauthenticated', status: 401, description: 'The key is unknown.' },
  DISABLED: { kind: 'unauthenticated', status: 401, description: 'The key is disabled.' },
  EXPIRED: { kind: 'unauthenticated', status: 401, description: 'The key has expired.' },
  REVOKED: { kind: 'unauthenticated', status: 401, description: 'The key is revoked.' },
  WRONG_ENVIRONMENT: { kind: 'forbidden', status: 403, description: 'The key is of the other environment.' },
  IP_NOT_ALLOWED: { kind: 'forbidden', status: 403, description: "The client address is outside the key's allowlist." },
  REFERRER_NOT_ALLOWED: { kind: 'forbidden', status: 403, description: "The referrer matches none of the key's patterns." },
  ENDPOINT_NOT_ALLOWED: { kind: 'forbidden', status: 403, description: "The method and path match none of the key's endpoints." },
  INSUFFICIENT_PERMISSIONS: { kind: 'forbidden', status: 403, description: 'The key lacks a required permission.' },
  INVALID_SIGNATURE: { kind: 'forbidden', status: 403, description: 'A signing key came without a valid, fresh signature.' },
  RATE_LIMITED: { kind: 'rate_limited', status: 429, description: "The key's rate limit is spent; wait `Retry-After` seconds." },
  QUOTA_EXCEEDED: { kind: 'rate_limited', status: 429, description: "The key's quota is spent for its period." },
} as const satisfies Record<CheckRefusalCode, ErrorCodeEntry>;

export interface ErrorDetail {
  field?: string;
  message: string;
}

/**
 * What a Redis-transport handler answers instead of a reply when it refuses: the kind
 * travels with the code, so a caller in any language can act on it without this table.
 */
export interface RpcErrorReply {
  code: ErrorCode;
  kind: ErrorKind;
  message: string;
  details: ErrorDetail[];
  /** Seconds to wait before retrying, for rate_limited and unavailable. */
  retry_after_seconds?: number;
}
