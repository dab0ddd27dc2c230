import { HttpException } from '@nestjs/common';

import { ErrorCode } from '@latchkey/contracts';

import { AppError } from './app-error';
import { DATA_EXCEPTION_CLASS, SqlState, sqlStateOf } from './sqlstate';

/** Fastify's own request errors (body parsing, size, media type) carry a code and a status. */
interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** A request body that cannot be read, the same answer whether Fastify or the front door read it. */
export const RequestBodyError = {
  tooLarge: () => new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB.'),
  unsupportedMediaType: () => new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'),
  contentLengthMismatch: () => AppError.validation('The Content-Length header does not match the body.'),
  emptyJson: () => AppError.validation('The body is empty but the content type is application/json.'),
  invalidJson: () => new AppError('INVALID_JSON', 'The request body is not valid JSON.'),
} as const;

/** A request the router cannot read, the same answer whoever notices. */
export const RequestUrlError = {
  badUrl: () => new AppError('INVALID_URL', 'The URL is not valid percent-encoded UTF-8.'),
  paramTooLong: () => new AppError('URI_TOO_LONG', 'A path parameter is longer than any this API takes.'),
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

/**
 * The catalogue's general code for each status a Nest or Fastify error can carry; any
 * other status (a 500 among them) is not the client's to see and becomes INTERNAL_ERROR.
 */
const CODES_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Turns anything thrown into an AppError, or null when it is an unexpected
 * failure (a bug or an unknown dependency error) that must become a 500.
 */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof HttpException) {
    const code = CODES_BY_STATUS[error.getStatus()];
    if (!code) return null;
    if (code === 'VALIDATION_FAILED' && /JSON/.test(error.message)) return RequestBodyError.invalidJson();
    return new AppError(code, error.message);
  }
  const fastify = error as FastifyLikeError;
  if (fastify && typeof fastify.code === 'string') {
    const known = FASTIFY_ERRORS[fastify.code];
    if (known) return known();
    const code = fastify.code.startsWith('FST_ERR_CTP_') && fastify.statusCode ? CODES_BY_STATUS[fastify.statusCode] : undefined;
    if (code) return new AppError(code, fastify.message ?? 'Bad request.');
  }
  // Two requests racing to create the same thing: the database's unique index
  // decided, and the loser gets the same 409 a sequential duplicate would.
  if (
    (error as { code?: string } | null)?.code === SqlState.UniqueViolation ||
    (error as Error | null)?.name === 'UniqueConstraintViolationException'
  ) {
    return AppError.conflict('This conflicts with something created at the same moment; retry.');
  }
  // A deadlock or serialization failure: Postgres undid this transaction for another's sake.
  if (isTransactionRollback(error)) {
    return AppError.conflict('This conflicts with something changed at the same moment; retry.');
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
  return (
    candidate?.code === SqlState.SerializationFailure ||
    candidate?.code === SqlState.DeadlockDetected ||
    candidate?.name === 'DeadlockException'
  );
}

/** SQLSTATE class 22 from pg (DatabaseError) or MikroORM (DriverException, which copies pg's fields). */
function isDataException(error: unknown): boolean {
  return sqlStateOf(error)?.startsWith(DATA_EXCEPTION_CLASS) ?? false;
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
