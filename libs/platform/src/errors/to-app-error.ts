import { HttpException } from '@nestjs/common';

import { AppError, ErrorKind } from './app-error';

/** Fastify's own request errors (body parsing, size, media type) carry a code and a status. */
interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** A request body that cannot be read, the same answer whether Fastify or the front door read it. */
export const RequestBodyError = {
  tooLarge: () => new AppError(ErrorKind.PayloadTooLarge, 'PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB.'),
  unsupportedMediaType: () => new AppError(ErrorKind.UnsupportedMediaType, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'),
  contentLengthMismatch: () => AppError.validation('The Content-Length header does not match the body.'),
  emptyJson: () => AppError.validation('The body is empty but the content type is application/json.'),
  invalidJson: () => new AppError(ErrorKind.Validation, 'INVALID_JSON', 'The request body is not valid JSON.'),
} as const;

/** A request the router cannot read, the same answer whoever notices. */
export const RequestUrlError = {
  badUrl: () => new AppError(ErrorKind.Validation, 'INVALID_URL', 'The URL is not valid percent-encoded UTF-8.'),
  paramTooLong: () => new AppError(ErrorKind.UriTooLong, 'URI_TOO_LONG', 'A path parameter is longer than any this API takes.'),
} as const;

const FASTIFY_ERRORS: Record<string, () => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: RequestBodyError.tooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: RequestBodyError.unsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: RequestBodyError.contentLengthMismatch,
  FST_ERR_CTP_EMPTY_JSON_BODY: RequestBodyError.emptyJson,
  FST_ERR_CTP_INVALID_JSON_BODY: RequestBodyError.invalidJson,
  FST_ERR_BAD_URL: RequestUrlError.badUrl,
  FST_ERR_MAX_PARAM_LENGTH: RequestUrlError.paramTooLong,
};

const STATUS_KINDS: Record<number, ErrorKind> = {
  400: ErrorKind.Validation,
  401: ErrorKind.Unauthenticated,
  403: ErrorKind.Forbidden,
  404: ErrorKind.NotFound,
  405: ErrorKind.NotFound,
  409: ErrorKind.Conflict,
  413: ErrorKind.PayloadTooLarge,
  414: ErrorKind.UriTooLong,
  415: ErrorKind.UnsupportedMediaType,
  429: ErrorKind.RateLimited,
  503: ErrorKind.Unavailable,
};

const DEFAULT_CODES: Record<ErrorKind, string> = {
  validation: 'VALIDATION_FAILED',
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  payload_too_large: 'PAYLOAD_TOO_LARGE',
  uri_too_long: 'URI_TOO_LONG',
  unsupported_media_type: 'UNSUPPORTED_MEDIA_TYPE',
  rate_limited: 'RATE_LIMITED',
  unavailable: 'SERVICE_UNAVAILABLE',
};

/**
 * Turns anything thrown into an AppError, or null when it is an unexpected
 * failure (a bug or an unknown dependency error) that must become a 500.
 */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof HttpException) {
    const kind = STATUS_KINDS[error.getStatus()];
    if (!kind) return null;
    if (kind === ErrorKind.Validation && /JSON/.test(error.message)) return RequestBodyError.invalidJson();
    return new AppError(kind, DEFAULT_CODES[kind], error.message);
  }
  const fastify = error as FastifyLikeError;
  if (fastify && typeof fastify.code === 'string') {
    const known = FASTIFY_ERRORS[fastify.code];
    if (known) return known();
    if (fastify.code.startsWith('FST_ERR_CTP_') && fastify.statusCode && STATUS_KINDS[fastify.statusCode]) {
      const kind = STATUS_KINDS[fastify.statusCode];
      return new AppError(kind, DEFAULT_CODES[kind], fastify.message ?? 'Bad request.');
    }
  }
  // Two requests racing to create the same thing: the database's unique index
  // decided, and the loser gets the same 409 a sequential duplicate would.
  if ((error as { code?: string } | null)?.code === '23505' || (error as Error | null)?.name === 'UniqueConstraintViolationException') {
    return AppError.conflict('This conflicts with something created at the same moment; retry.', 'CONFLICT');
  }
  // A deadlock or serialization failure: Postgres undid this transaction for another's sake.
  if (isTransactionRollback(error)) {
    return AppError.conflict('This conflicts with something changed at the same moment; retry.', 'CONFLICT');
  }
  // Postgres's data exceptions (class 22: a value it cannot read, store or convert,
  // such as text too long, bad bytes, a malformed number or date) are the input's fault.
  // The answer names neither the statement nor the value.
  if (isDataException(error)) {
    return AppError.validation('A value in the request cannot be stored: it is too long, out of range or malformed.');
  }
  if (isDependencyDown(error)) {
    return AppError.unavailable('A dependency is unavailable; retry shortly.');
  }
  return null;
}

/** 40001 serialization_failure and 40P01 deadlock_detected (pg's code, or MikroORM's DeadlockException). */
function isTransactionRollback(error: unknown): boolean {
  const candidate = error as { code?: unknown; name?: unknown } | null;
  return candidate?.code === '40001' || candidate?.code === '40P01' || candidate?.name === 'DeadlockException';
}

/** SQLSTATE class 22 from pg (DatabaseError) or MikroORM (DriverException, which copies pg's fields). */
function isDataException(error: unknown): boolean {
  const candidate = error as { code?: unknown; severity?: unknown } | null;
  return typeof candidate?.code === 'string' && /^22[0-9A-Z]{3}$/.test(candidate.code) && typeof candidate.severity === 'string';
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

/** Postgres or Redis connection failures: a 503 the client can retry, not a 500. */
function isDependencyDown(error: unknown): boolean {
  const candidate = error as { code?: string; message?: string; name?: string };
  if (!candidate) return false;
  if (candidate.code && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
  const message = candidate.message ?? '';
  return (
    candidate.name === 'ConnectionException' ||
    /Connection is closed|Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|Reached the max retries per request limit/i.test(
      message,
    )
  );
}
