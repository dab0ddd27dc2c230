/** One field's problem, as the error envelope's `details` lists it (docs/api-conventions.md). */
export interface LatchkeyErrorDetail {
  field?: string;
  message: string;
}

export interface LatchkeyErrorInit {
  status: number;
  code: string;
  message: string;
  details?: LatchkeyErrorDetail[];
  requestId?: string | null;
  retryAfterSeconds?: number | null;
  cause?: unknown;
}

/**
 * Every error the SDK throws for an answer (or the lack of one) from Latchkey. Branch on
 * `code` (the error table of docs/api-conventions.md#error-codes) or on the subclass,
 * never on the message; quote `requestId` when reporting a fault.
 */
export class LatchkeyError extends Error {
  override readonly name: string = 'LatchkeyError';
  readonly status: number;
  readonly code: string;
  readonly details: LatchkeyErrorDetail[];
  readonly requestId: string | null;
  readonly retryAfterSeconds: number | null;

  constructor(init: LatchkeyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? [];
    this.requestId = init.requestId ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}

/** 400: a field, query parameter or header is invalid; `details` names each one. */
export class LatchkeyValidationError extends LatchkeyError {
  override readonly name = 'LatchkeyValidationError';
}

/** 401: the token (or the internal token) is missing, wrong or expired. */
export class LatchkeyAuthenticationError extends LatchkeyError {
  override readonly name = 'LatchkeyAuthenticationError';
}

/** 403: the caller may not do this (its role, live access, an unverified address…). */
export class LatchkeyPermissionError extends LatchkeyError {
  override readonly name = 'LatchkeyPermissionError';
}

/** 404: no such resource, also for another organisation's ids. */
export class LatchkeyNotFoundError extends LatchkeyError {
  override readonly name = 'LatchkeyNotFoundError';
}

/** 409: a conflict (a revoked key, a reused Idempotency-Key, the last owner…). */
export class LatchkeyConflictError extends LatchkeyError {
  override readonly name = 'LatchkeyConflictError';
}

/** 429: too many requests; `retryAfterSeconds` says when to try again. */
export class LatchkeyRateLimitError extends LatchkeyError {
  override readonly name = 'LatchkeyRateLimitError';
}

/** Any other 4xx or 5xx answer (500 INTERNAL_ERROR, 413, 415…). */
export class LatchkeyApiError extends LatchkeyError {
  override readonly name = 'LatchkeyApiError';
}

/**
 * Latchkey could not be reached or could not answer: no connection, no answer within
 * the timeout, or a 502/503/504. `status` is 503 whatever happened, so a service
 * mapping it to HTTP fails closed with a 503, never a 401. A verify that ended this way
 * may still have reached Latchkey and spent quota: it is not retried.
 */
export class LatchkeyUnavailableError extends LatchkeyError {
  override readonly name = 'LatchkeyUnavailableError';
  /** What went wrong: no connection, no answer in time, or Latchkey answered that it is unavailable. */
  readonly reason: 'connection' | 'timeout' | 'unavailable';

  constructor(init: Omit<LatchkeyErrorInit, 'status'> & { reason: LatchkeyUnavailableError['reason'] }) {
    super({ ...init, status: 503 });
    this.reason = init.reason;
  }
}

/** The error body of the envelope `{ success: false, error: { code, message, details, request_id } }`. */
interface ErrorEnvelopeBody {
  code?: unknown;
  message?: unknown;
  details?: unknown;
  request_id?: unknown;
}

/**
 * The error for a non-2xx answer: the envelope's code, message, details and request id,
 * as the subclass of its status. A body that is not the envelope (a proxy's HTML page)
 * still gives an error with the status, code HTTP_<status>.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: { get(name: string): string | null },
  nowMs = Date.now(),
): LatchkeyError {
  const envelope = (body as { error?: ErrorEnvelopeBody } | null | undefined)?.error;
  const code = typeof envelope?.code === 'string' ? envelope.code : `HTTP_${status}`;
  const message = typeof envelope?.message === 'string' ? envelope.message : `Latchkey answered ${status}.`;
  const details = Array.isArray(envelope?.details) ? (envelope.details as LatchkeyErrorDetail[]) : [];
  const requestId = typeof envelope?.request_id === 'string' ? envelope.request_id : headers.get('x-request-id');
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs);
  const init: LatchkeyErrorInit = {
    status,
    code,
    message,
    details,
    requestId,
    retryAfterSeconds: retryAfterMs === null ? null : Math.ceil(retryAfterMs / 1000),
  };
  if (status === 502 || status === 503 || status === 504) return new LatchkeyUnavailableError({ ...init, reason: 'unavailable' });
  switch (status) {
    case 400:
      return new LatchkeyValidationError(init);
    case 401:
      return new LatchkeyAuthenticationError(init);
    case 403:
      return new LatchkeyPermissionError(init);
    case 404:
      return new LatchkeyNotFoundError(init);
    case 409:
      return new LatchkeyConflictError(init);
    case 429:
      return new LatchkeyRateLimitError(init);
    default:
      return new LatchkeyApiError(init);
  }
}

/** `Retry-After` in milliseconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its day and month; Date.parse would also take '-1' as a year.
  if (!/[a-z]/i.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
